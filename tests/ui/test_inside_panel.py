"""The result page's "Inside the network" tabs: only the open one of the heavy tabs is drawn, and
the first layer's pictures, made once per run and shared by every session, are the pictures of
the run on screen (another run's, or a deleted run's, never)."""

import dataclasses
import re
from pathlib import Path

import numpy as np
from streamlit.testing.v1 import AppTest

from explorer.config import TrainingConfig
from explorer.store.registry import MODEL_FILE, RunStore
from explorer.ui.drawing import INSIDE_TAB, INSIDE_TABS
from explorer.views import network
from testkit.fakes import fake_result
from testkit.store import made_up_history, seed_store

APP = str(Path(__file__).resolve().parents[2] / "app.py")
SMALL = TrainingConfig(hidden1=16, hidden2=0, epochs=2)
OTHER = TrainingConfig(hidden1=16, hidden2=0, epochs=3)
WEIGHTS_TAB, HOME_TAB = INSIDE_TABS[1], INSIDE_TABS[2]


def store_run(home: Path, data, config: TrainingConfig, weight_seed: int) -> str:
    """A finished run of `config` whose first layer comes from `weight_seed`."""

    def result_for(index, chosen):
        result = fake_result(chosen, data, made_up_history(chosen, index))
        rng = np.random.default_rng(weight_seed)
        kernel = rng.normal(0, 0.05, result.weights[0].shape).astype(np.float32)
        return dataclasses.replace(result, weights=[kernel, *result.weights[1:]])

    (run_id,) = seed_store(home, data, [config], result_for)
    return run_id


def page_for(config: TrainingConfig) -> AppTest:
    app = AppTest.from_file(APP, default_timeout=60)
    for name in ("hidden1", "hidden2", "epochs"):
        app.query_params[name] = str(getattr(config, name))
    return app


def shown_norms(app: AppTest) -> list[float]:
    """The weight lengths of the first-layer pictures on the page, strongest first."""
    (grid,) = [e.value for e in app.get("html") if 'class="weight-grid"' in e.value]
    return [float(norm) for norm in re.findall(r'data-norm="([0-9.]+)"', grid)]


def expected_norms(home: Path, run_id: str) -> list[float]:
    weights = RunStore(home).load_weights(run_id)
    return [round(float(norm), 4) for norm in network.weight_pictures(weights).norms]


def test_only_the_open_tab_of_the_heavy_ones_is_drawn(sample_data, tmp_path, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("EXPLORER_HOME", str(home))
    run_id = store_run(home, sample_data, SMALL, weight_seed=1)
    (home / "runs" / run_id / MODEL_FILE).write_bytes(b"a .keras file")  # for the download
    app = page_for(SMALL).run()
    assert not app.exception
    html = " ".join(e.value for e in app.get("html"))
    assert 'class="weight-grid"' not in html
    assert not app.get("download_button")
    app.session_state[INSIDE_TAB] = WEIGHTS_TAB  # what a click on the tab sets
    app.run()
    assert len(shown_norms(app)) == SMALL.hidden1
    assert not app.get("download_button")
    app.session_state[INSIDE_TAB] = HOME_TAB
    app.run()
    keys = [button.key for button in app.get("download_button")]
    assert keys and all(key.startswith("export_") for key in keys)
    assert not [e for e in app.get("html") if 'class="weight-grid"' in e.value]


def test_the_first_layer_pictures_are_those_of_the_run_on_screen(
    sample_data, tmp_path, monkeypatch
):
    home = tmp_path / "home"
    monkeypatch.setenv("EXPLORER_HOME", str(home))
    first = store_run(home, sample_data, SMALL, weight_seed=1)
    other = store_run(home, sample_data, OTHER, weight_seed=2)
    app = page_for(SMALL)
    app.session_state[INSIDE_TAB] = WEIGHTS_TAB
    app.run()
    first_norms = expected_norms(home, first)
    assert shown_norms(app) == first_norms
    app.slider(key="epochs").set_value(OTHER.epochs).run()  # another run: its own pictures
    assert shown_norms(app) == expected_norms(home, other) != first_norms

    # The teacher deletes the first run and it is trained again (new weights, a new run id):
    # a second session, and the first one going back, see the new run's pictures.
    from tests.apptest import page_service

    page_service().delete([first])
    again = store_run(home, sample_data, SMALL, weight_seed=3)
    assert again != first
    app.slider(key="epochs").set_value(SMALL.epochs).run()
    newcomer = page_for(SMALL)
    newcomer.session_state[INSIDE_TAB] = WEIGHTS_TAB
    newcomer.run()
    for page in (app, newcomer):
        assert not page.exception
        assert shown_norms(page) == expected_norms(home, again) != first_norms
