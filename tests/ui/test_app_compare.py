"""The Compare view and shareable links, through AppTest, on a store seeded with three runs."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from explorer.config import TrainingConfig
from explorer.store.registry import RunStore
from testkit.fakes import fake_result
from tests.apptest import alerts
from tests.ui.conftest import TUTORIAL, VARIANTS

APP = str(Path(__file__).resolve().parents[2] / "app.py")


def compare_page(**query) -> AppTest:
    app = AppTest.from_file(APP, default_timeout=60)
    for key, value in query.items():
        app.query_params[key] = value
    return app.run()


def texts(elements) -> str:
    return " ".join(str(element.value) for element in elements)


def test_link_opens_the_comparison_of_two_variants_against_the_tutorial(seeded):
    _, variant_a, variant_b = seeded
    app = compare_page(view="compare", runs=f"{variant_a},{variant_b}")
    assert not app.exception
    assert "What differs**: neurons in hidden layer 2" in texts(app.markdown)
    labels = [metric.label for metric in app.metric]
    assert labels.count("Test accuracy") == 3  # baseline + two variants
    deltas = [metric.delta for metric in app.metric if metric.label == "Parameters"]
    assert deltas[0] in ("", None) and deltas[1] == "+73,980" and deltas[2] == "-4,220"
    charts = app.get("vega_lite_chart")
    assert len(charts) == 3 + 3 + 2 + 1  # 3 curve panels, 3 matrices, 2 differences, bars
    html = texts(app.get("html"))
    assert html.count('data-run="Baseline"') == 20  # rows are named Baseline, A and B
    assert html.count("data-run=") == 3 * 20  # three runs × the first 20 digits
    assert 'data-disagree="true"' in html


def test_changing_the_selection_trains_nothing(seeded, tmp_path):
    _, variant_a, variant_b = seeded
    app = compare_page(view="compare", runs=variant_a)
    names = [element.value for element in app.markdown]  # each run card's name
    assert names.count("**A**") == 1 and names.count("**B**") == 0
    app.multiselect(key="compare_runs").set_value([variant_a, variant_b]).run()
    assert not app.exception
    assert [metric.label for metric in app.metric].count("Test accuracy") == 3
    assert app.query_params["runs"] == f"{variant_a},{variant_b}"
    assert len(RunStore(tmp_path / "home").list_runs()) == 3  # nothing queued or trained
    assert not any("Training" in subheader.value for subheader in app.subheader)


def test_digit_modes(seeded):
    _, variant_a, variant_b = seeded
    app = compare_page(view="compare", runs=f"{variant_a},{variant_b}")
    app.radio(key="digit_mode").set_value("disagree").run()
    html = texts(app.get("html"))
    assert html.count('data-disagree="true"') == html.count("data-disagree=")
    app.radio(key="digit_mode").set_value("all_wrong").run()
    assert not app.exception
    html = texts(app.get("html"))
    shown = html.count('class="prediction"')
    assert shown > 0 and html.count('data-correct="false"') == shown  # every run gets them wrong


def test_pinning_another_baseline_changes_the_deltas_and_the_link(seeded):
    tutorial, variant_a, variant_b = seeded
    app = compare_page(view="compare", runs=f"{tutorial},{variant_b}")
    app.selectbox(key="baseline_choice").set_value(variant_a).run()
    assert not app.exception
    assert app.query_params["baseline"] == variant_a
    parameters = [metric for metric in app.metric if metric.label == "Parameters"]
    assert parameters[0].value == "396,210" and parameters[0].delta in ("", None)


def test_untrained_baseline_is_said_and_can_be_trained(monkeypatch, tmp_path):
    monkeypatch.setenv("EXPLORER_HOME", str(tmp_path / "empty"))
    app = compare_page(view="compare")
    assert not app.exception
    assert "has not been trained yet" in " ".join(alerts(app, "warning"))
    app.button(key="train_baseline").click().run()
    assert "Training the tutorial's network" in texts(app.toast)
    (queued,) = RunStore(tmp_path / "empty").list_runs()
    assert queued.config == TUTORIAL and queued.status in ("queued", "running")


def test_explore_link_round_trip(seeded):
    app = compare_page(hidden1="64", hidden2="0", optimizer="adam", epochs="3")
    assert not app.exception
    assert app.select_slider(key="hidden1").value == 64
    assert app.selectbox(key="optimizer").value == "adam"
    assert "784 → 64 → 10" in texts(app.markdown)
    app.slider(key="epochs").set_value(7).run()
    assert app.query_params["epochs"] == "7"
    assert app.query_params["hidden1"] == "64"


@pytest.mark.parametrize(
    ("query", "warning"),
    [
        ({"hidden1": "lots"}, "Ignored hidden1"),
        ({"hidden1": "99999"}, "Ignored hidden1"),
        ({"learning_rate": "nan"}, "Ignored learning_rate"),
        ({"batch_size": "-1"}, "Ignored batch_size"),
        ({"optimizer": "magic"}, "Ignored optimizer"),
        ({"view": "secret"}, "Ignored view"),
        ({"runs": "../../etc/passwd", "view": "compare"}, "not a run id"),
        ({"bogus": "1"}, "does not know: 'bogus'"),
    ],
)
def test_bad_link_values_warn_and_fall_back(query, warning):
    app = compare_page(**query)
    assert not app.exception
    assert warning in " ".join(alerts(app, "warning"))
    assert app.session_state["last_valid_config"].hidden1 == 400  # the default survives


def test_odd_but_valid_link_values_are_offered(seeded):
    app = compare_page(batch_size="300", learning_rate="0.005", train_fraction="0.33")
    assert not app.exception
    assert app.select_slider(key="batch_size").value == 300
    assert app.select_slider(key="learning_rate").value == 0.005
    assert "Ignored" not in " ".join(alerts(app, "warning"))


def html_text(app) -> str:
    return " ".join(element.proto.body for element in app.get("html"))


def test_one_run_per_side_cannot_tell_and_offers_to_repeat(seeded, tmp_path):
    _, variant_a, _ = seeded
    app = compare_page(view="compare", runs=variant_a)
    assert "Can&#x27;t tell" in html_text(app) or "Can't tell" in html_text(app)
    app.button(key="repeat_compared").click().run()
    assert not app.exception
    store = RunStore(tmp_path / "home")
    seeds = sorted(r.config.seed for r in store.list_runs() if r.config.hidden2 == 200)
    assert seeds == [0, 1, 2]  # seed 0 stored, seeds 1 and 2 queued


def test_repeated_configs_get_a_verdict_with_n(sample_data, monkeypatch, tmp_path):
    monkeypatch.setenv("EXPLORER_HOME", str(tmp_path / "home"))
    store = RunStore(tmp_path / "home")
    values = {TUTORIAL: (0.800, 0.805, 0.798), VARIANTS[0]: (0.900, 0.904, 0.897)}
    ids = {}
    for config, accuracies in values.items():
        for seed, accuracy in enumerate(accuracies):
            seeded_config = config.replace(seed=seed)
            key = seeded_config.cache_key(sample_data.fingerprint)
            run_id, _ = store.claim(seeded_config, key, sample_data.source)
            result = fake_result(seeded_config, sample_data, [])
            result.test_accuracy = accuracy
            store.finish(run_id, result)
            ids[seeded_config] = run_id
    app = compare_page(view="compare", runs=ids[VARIANTS[0]])
    assert not app.exception
    text = html_text(app)
    assert "bigger than the seed-to-seed spread" in text
    assert "n = 3" in text


def test_a_store_with_sample_and_full_runs_compares_without_an_exception(seeded, tmp_path):
    """Runs on the bundled sample and on full MNIST used to raise a traceback in Compare."""
    import numpy as np

    from explorer.data.sources import MnistData, fingerprint_arrays

    rng = np.random.default_rng(0)
    arrays = (
        rng.integers(0, 256, (200, 28, 28), dtype=np.uint8),
        np.arange(200, dtype=np.uint8) % 10,
        rng.integers(0, 256, (10_000, 28, 28), dtype=np.uint8),
        np.arange(10_000, dtype=np.uint8) % 10,
    )
    full = MnistData(
        *arrays, source="data-dir", location="x", fingerprint=fingerprint_arrays(*arrays)
    )
    store = RunStore(tmp_path / "home")
    config = TrainingConfig(hidden1=33, hidden2=0)
    run_id, _ = store.claim(config, config.cache_key(full.fingerprint), full.source)
    store.finish(run_id, fake_result(config, full, []))
    _, variant_a, _ = seeded
    app = compare_page(view="compare", runs=f"{variant_a},{run_id}")
    assert not app.exception
    warnings = " ".join(alerts(app, "warning"))
    assert "B was tested on full MNIST (10,000 test digits)" in warnings
    assert "the baseline on bundled sample (1,000 test digits)" in warnings
    settings = app.dataframe[-1].value  # the table of settings, with a row for the data
    assert settings.loc["Data"].tolist() == ["bundled sample (1,000 test digits)"] * 2


def test_runs_a_link_names_that_are_not_stored_are_said_and_stay_in_the_link(seeded):
    _, variant_a, _ = seeded
    missing = "00000000deadbeef"
    app = compare_page(view="compare", runs=f"{variant_a},{missing}", baseline="1111111111111111")
    assert not app.exception
    warnings = " ".join(alerts(app, "warning"))
    assert f"Run {missing} is not stored on this server" in warnings
    assert "The baseline 1111111111111111 is not stored on this server" in warnings
    assert app.query_params["runs"] == f"{variant_a},{missing}"
    assert app.query_params["baseline"] == "1111111111111111"
