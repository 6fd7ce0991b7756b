"""The page, driven through Streamlit's AppTest with widgets found by key."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from explorer.architecture import total_parameters
from explorer.config import TrainingConfig
from explorer.ui.controls import MORE
from tests.apptest import alerts, open_panel, page_service
from tests.waiting import wait_until

APP = str(Path(__file__).resolve().parents[2] / "app.py")
QUICK_WIDGETS = {"hidden1": 32, "hidden2": 16, "batch_size": 32, "epochs": 2}
QUICK_EXTRA = {"optimizer": "adam", "learning_rate": 0.003, "train_fraction": 0.2}


def new_page() -> AppTest:
    return AppTest.from_file(APP, default_timeout=60)


def metric_value(app: AppTest, label: str) -> str:
    for metric in app.metric:
        if metric.label == label:
            return metric.value
    raise AssertionError(f"no metric {label!r}; have {[m.label for m in app.metric]}")


def parameter_total(app: AppTest) -> str:
    """The page's "Parameters to learn" figure, as shown."""
    (total,) = [m.value for m in app.markdown if m.value.startswith("Parameters to learn")]
    return total.split("## ")[1]


def parameter_counts(app: AppTest) -> list[int]:
    """The per-layer parameter counts of the page's one parameter table, top to bottom."""
    tables = [e.value for e in app.get("html") if 'class="parameter-table"' in e.value]
    assert len(tables) == 1, "expected one parameter table"
    return [int(count) for count in re.findall(r'data-parameters="(\d+)"', tables[0])]


def choose_quick_config(app: AppTest) -> AppTest:
    open_panel(app, MORE)
    for key, value in QUICK_WIDGETS.items():
        widget = app.slider(key=key) if key == "epochs" else app.select_slider(key=key)
        widget.set_value(value)
    app.selectbox(key="optimizer").set_value(QUICK_EXTRA["optimizer"])
    app.select_slider(key="learning_rate").set_value(QUICK_EXTRA["learning_rate"])
    app.select_slider(key="train_fraction").set_value(QUICK_EXTRA["train_fraction"])
    return app.run()


def run_until(app: AppTest, condition, timeout: float = 120.0) -> AppTest:
    """Rerun the page (as the fragment's timer would) until `condition(app)` holds."""
    return wait_until(lambda: condition(app.run()) and app, timeout=timeout, interval=0.5)


def has_results(app: AppTest) -> bool:
    return any(metric.label == "Test accuracy" for metric in app.metric)


def test_page_paints_parameters_before_tensorflow_loads():
    # A fresh interpreter: the page must not pull TensorFlow in just to draw itself.
    code = (
        "import json, sys; from streamlit.testing.v1 import AppTest; "
        f"app = AppTest.from_file({APP!r}, default_timeout=60).run(); "
        "print(json.dumps({'tf': 'tensorflow' in sys.modules, 'keras': 'keras' in sys.modules, "
        "'exception': [str(e.value) for e in app.exception], "
        "'markdown': [m.value for m in app.markdown]}))"
    )
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    report = json.loads(output.stdout.strip().splitlines()[-1])
    assert report["exception"] == []
    assert "Parameters to learn\n## 322,230" in report["markdown"]
    assert report["tf"] is False and report["keras"] is False


def test_sliders_update_the_parameter_table_at_once():
    app = new_page().run()
    assert not app.exception
    assert parameter_counts(app) == [314_000, 8_020, 210]
    open_panel(app, MORE)
    # 100 is off the slider's ladder: typed as an exact size, it joins the slider.
    app.number_input(key="hidden1_exact").set_value(100)
    app.select_slider(key="hidden2").set_value(0)
    app.run()
    assert app.select_slider(key="hidden1").value == 100
    assert parameter_counts(app) == [78_500, 1_010]
    assert parameter_total(app) == "79,510"
    assert "Not trained yet" in " ".join(alerts(app, "info"))


def test_bundled_sample_banner_when_no_data_folder():
    app = new_page().run()
    assert any("bundled" in warning for warning in alerts(app, "warning"))


@pytest.mark.slow
def test_train_shows_accuracy_confusion_matrix_and_digits_then_is_cached():
    app = choose_quick_config(new_page().run())
    app.button(key="train").click().run()
    assert not app.exception
    run_until(app, has_results)
    accuracy = float(metric_value(app, "Test accuracy").rstrip("%")) / 100
    assert accuracy > 0.6
    charts = app.get("vega_lite_chart")
    assert len(charts) == 3  # loss and accuracy curves, confusion matrix
    html = " ".join(element.value for element in app.get("html"))
    assert html.count("data-correct=") == 20  # the tutorial's grid of 20 test digits
    assert not any("cached" in element.value for element in [*app.markdown, *app.caption])

    # A new browser session asking for the same config gets the stored result at once.
    second = choose_quick_config(new_page().run())
    assert has_results(second)  # on its first run: nothing trained again
    assert not any(element.label == "Stop" for element in second.button)
    assert metric_value(second, "Test accuracy") == metric_value(app, "Test accuracy")
    assert any(":green-badge[" in element.value for element in second.caption)

    second.toggle(key="show_mistakes").set_value(True).run()
    html = " ".join(element.value for element in second.get("html"))
    assert 'data-correct="false"' in html and 'data-correct="true"' not in html


def test_expected_total_for_the_quick_config():
    config = TrainingConfig(hidden1=32, hidden2=16)
    assert total_parameters(config) == 784 * 32 + 32 + 32 * 16 + 16 + 16 * 10 + 10


def test_a_broken_data_folder_is_explained_and_the_rest_still_works(tmp_path, monkeypatch):
    folder = tmp_path / "half"
    folder.mkdir()
    (folder / "train-images-idx3-ubyte.gz").write_bytes(b"")
    monkeypatch.setenv("EXPLORER_DATA_DIR", str(folder))
    app = new_page().run()
    assert not app.exception
    assert any("only some of the MNIST files" in error for error in alerts(app, "error"))
    assert parameter_total(app) == "322,230"  # the network panel still works


def test_a_run_with_damaged_files_says_so_and_can_be_retrained(sample_data, tmp_path):
    from explorer.store.registry import RunStore
    from testkit.fakes import fake_result

    store = RunStore()  # the test's own EXPLORER_HOME, as the page uses
    config = TrainingConfig()
    run_id, _ = store.claim(config, config.cache_key(sample_data.fingerprint), "sample")
    store.finish(run_id, fake_result(config, sample_data, [{"epoch": 1}]))
    (store.runs_dir / run_id / "predictions.npz").write_bytes(b"\x00" * 10)
    app = new_page().run()
    assert not app.exception
    assert any("damaged" in error for error in alerts(app, "error"))


def test_the_learning_rate_box_shows_the_optimizers_default_never_a_blank():
    """It read "Choose an option" on first view and after switching to Adam."""
    app = open_panel(new_page().run(), MORE)
    rate = app.select_slider(key="learning_rate")
    assert rate.value == 0.01 and rate.format_func(rate.value) == "0.01 (SGD's default)"
    app.selectbox(key="optimizer").set_value("adam").run()
    rate = app.select_slider(key="learning_rate")
    assert rate.value == 0.001 and rate.format_func(rate.value) == "0.001 (ADAM's default)"


def test_settings_a_link_changes_inside_more_settings_are_shown():
    app = AppTest.from_file(APP, default_timeout=60)
    app.query_params["activation"] = "tanh"
    app.query_params["seed"] = "7"
    app.run()
    (expander,) = [e for e in app.expander if e.label.startswith("More settings")]
    assert expander.label == "More settings (changed: activation, seed)"
    assert expander.proto.expanded


def test_a_link_that_chooses_adam_opens_more_settings():
    """The optimizer was compared with itself, so a link to Adam at Adam's default rate left
    More settings closed and the class never saw that the run was not the tutorial's SGD."""
    app = AppTest.from_file(APP, default_timeout=60)
    app.query_params["optimizer"] = "adam"
    app.run()
    (expander,) = [e for e in app.expander if e.label.startswith("More settings")]
    assert expander.label == "More settings (changed: optimizer)"
    assert expander.proto.expanded


def test_a_session_whose_run_was_deleted_is_told_so(sample_data):
    from explorer.store.registry import RunStore
    from testkit.fakes import fake_result

    config = TrainingConfig(hidden1=12, hidden2=0)
    store = RunStore()
    run_id, _ = store.claim(config, config.cache_key(sample_data.fingerprint), "sample")
    store.finish(run_id, fake_result(config, sample_data, [{"epoch": 1}]))
    student = AppTest.from_file(APP, default_timeout=60)
    student.query_params["hidden1"], student.query_params["hidden2"] = "12", "0"
    student.run()
    assert has_results(student)
    teacher = new_page()
    teacher.query_params["view"] = "compare"
    teacher.run()
    page_service().delete([run_id])
    student.run()
    assert any("was deleted" in text for text in alerts(student, "info"))


def test_a_ray_cluster_that_cannot_be_reached_is_explained_on_the_page(monkeypatch):
    from testkit.server import free_port

    address = f"127.0.0.1:{free_port()}"
    monkeypatch.setenv("EXPLORER_RAY_ADDRESS", address)
    app = new_page().run()
    assert not app.exception
    errors = alerts(app, "error")
    assert any(f"Could not reach the Ray cluster at {address}" in text for text in errors)
    assert any("the address is the one Ray registered" in text for text in errors)


def test_closed_more_settings_draws_nothing_and_loses_nothing():
    """Closed, "More settings" costs a rerun nothing (explorer.ui.lazy); what was chosen in it
    stays chosen, and Train would use it."""
    app = new_page().run()
    assert not app.get("selectbox") or "optimizer" not in [box.key for box in app.selectbox]
    assert "hidden1_exact" not in [field.key for field in app.number_input]
    open_panel(app, MORE)
    app.selectbox(key="optimizer").set_value("adam").run()
    app.session_state[MORE] = False  # closed again, as a click would
    app.select_slider(key="hidden2").set_value(0).run()
    assert "optimizer" not in [box.key for box in app.selectbox]
    assert app.session_state["last_valid_config"].optimizer == "adam"
    assert "optimizer" in app.expander[0].label or any(
        "optimizer" in expander.label for expander in app.expander
    )
    assert open_panel(app, MORE).selectbox(key="optimizer").value == "adam"
