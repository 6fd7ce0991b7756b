"""The Sweep view and Repeat through AppTest: a sweep from a link, and Repeat ×3."""

from pathlib import Path

from streamlit.testing.v1 import AppTest

from explorer.config import TrainingConfig
from testkit.store import seed_store
from tests.apptest import page_service

APP = str(Path(__file__).resolve().parents[2] / "app.py")


def page(**query) -> AppTest:
    app = AppTest.from_file(APP, default_timeout=60)
    for key, value in query.items():
        app.query_params[key] = value
    return app.run()


def test_the_sweep_view_renders_from_a_link():
    app = page(view="sweep", sweep="hidden1:16,32,64;epochs:1,3", seeds="2", hidden2="0")
    assert not app.exception
    assert app.selectbox(key="sweep_knob_0").value == "hidden1"
    assert app.selectbox(key="sweep_knob_1").value == "epochs"
    assert app.number_input(key="sweep_seeds").value == 2
    texts = " ".join(element.proto.body for element in app.get("html"))
    assert "12 runs: 0 stored, 0 training, 12 to train" in texts
    assert app.button(key="sweep_train").label == "Train 12 run(s)"
    assert app.query_params["sweep"] == "hidden1:16,32,64;epochs:1,3"
    assert len(app.get("vega_lite_chart")) >= 1


def test_a_bad_sweep_in_a_link_is_explained():
    app = page(view="sweep", sweep="hidden1:16")
    assert not app.exception
    assert any("at least two" in element.proto.body for element in app.get("html"))


def test_a_one_value_setting_in_a_sweep_link_is_set_for_every_cell():
    app = page(view="sweep", sweep="hidden1:16,32,64;epochs:1", hidden2="0")
    assert not app.exception
    texts = " ".join(element.proto.body for element in app.get("html"))
    assert "Ignored the sweep" not in texts
    assert "The link gives epochs one value (1): it is set for every cell, not swept." in texts
    assert app.selectbox(key="sweep_knob_0").value == "hidden1"
    assert app.selectbox(key="sweep_knob_1").value is None
    assert "3 runs: 0 stored, 0 training, 3 to train" in texts
    assert app.query_params["sweep"] == "hidden1:16,32,64" and app.query_params["epochs"] == "1"


def test_repeat_three_queues_three_seeds_and_says_n():
    app = page(hidden1="16", hidden2="0", epochs="1", train_fraction="0.05")
    app.number_input(key="repeat_count").set_value(3)
    app.button(key="repeat").click().run()
    assert not app.exception
    service = page_service()
    jobs = [state.config for state in service.queue()]
    base = TrainingConfig(hidden1=16, hidden2=0, epochs=1, train_fraction=0.05)
    queued = sorted(config.seed for config in jobs if config.replace(seed=0) == base)
    finished = [
        record.config.seed
        for record in service.runs()
        if record.config and record.config.replace(seed=0) == base
    ]
    assert sorted(set(queued) | set(finished)) == [0, 1, 2]
    markdown = " ".join(element.value for element in app.markdown)
    assert "Repeated over seeds 0–2" in markdown


def test_the_shared_chart_specs_follow_the_stored_runs(sample_data, monkeypatch, tmp_path):
    # The sweep's two charts are built once per picture and shared by every session; a cell
    # whose runs are stored meanwhile must show up in both on the next rerun.
    home = tmp_path / "home"
    monkeypatch.setenv("EXPLORER_HOME", str(home))
    cell = TrainingConfig(hidden1=16, hidden2=0, epochs=1)
    link = {"view": "sweep", "sweep": "hidden1:16,32", "seeds": "2", "hidden2": "0", "epochs": "1"}
    seed_store(home, sample_data, [cell])
    app = page(**link)
    before = [chart.proto.SerializeToString() for chart in app.get("vega_lite_chart")]
    assert b"No cell finished yet" in before[-1]  # the cost chart waits for a whole cell
    seed_store(home, sample_data, [cell.replace(seed=1)])
    app.run()
    assert not app.exception
    after = [chart.proto.SerializeToString() for chart in app.get("vega_lite_chart")]
    assert after[0] != before[0]  # the sweep's picture: the cell is done
    assert b"No cell finished yet" not in after[-1]  # the cost chart: its point
