"""The run history on the Compare view: filters, export, compare-selected and delete (AppTest).

Rows are ticked by writing the table's selection into session state, as a click would."""

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from explorer.store.registry import RunStore
from tests.apptest import alerts

APP = str(Path(__file__).resolve().parents[2] / "app.py")


def history_page() -> AppTest:
    app = AppTest.from_file(APP, default_timeout=60)
    app.query_params["view"] = "compare"
    return app.run()


def table_run_ids(app: AppTest) -> list[str]:
    return app.dataframe(key="run_table").value["run_id"].tolist()


def tick(app: AppTest, rows: list[int]) -> AppTest:
    app.session_state["run_table"] = {"selection": {"rows": rows, "columns": [], "cells": []}}
    return app.run()


def download(app: AppTest, key: str) -> str:
    (button,) = [element for element in app.get("download_button") if element.key == key]
    return button.proto.url


@pytest.mark.parametrize(
    ("text", "expected"),
    [("", 3), ("hidden2=0", 1), ("hidden2=200", 1), ("sgd", 3), ("adam", 0)],
)
def test_the_filter_keeps_the_matching_runs(seeded, text, expected):
    app = history_page()
    app.text_input(key="run_filter").set_value(text).run()
    assert not app.exception
    if expected:
        assert len(table_run_ids(app)) == expected
    else:
        assert "No run matches the filter (3 stored)." in " ".join(c.value for c in app.caption)


def test_the_status_filter_hides_failed_runs(seeded, tmp_path):
    RunStore(tmp_path / "home").mark_ended(seeded[1], "broken on purpose")
    app = history_page()
    assert seeded[1] not in table_run_ids(app)
    app.multiselect(key="status_filter").set_value(["failed"]).run()
    assert table_run_ids(app) == [seeded[1]]


def test_compare_selected_puts_the_ticked_runs_side_by_side(seeded):
    app = history_page()
    ids = table_run_ids(app)
    tick(app, [0, 1])
    assert app.button(key="compare_selected").disabled is False
    app.button(key="compare_selected").click().run()
    assert not app.exception
    assert app.query_params["runs"] == f"{ids[0]},{ids[1]}"
    assert [metric.label for metric in app.metric].count("Test accuracy") >= 2


def test_export_holds_the_ticked_runs_or_all_shown(seeded):
    app = history_page()
    assert "3 shown" in app.get("download_button")[0].proto.label
    tick(app, [1])
    labels = [element.proto.label for element in app.get("download_button")]
    assert labels == ["CSV (1 selected)", "JSON (1 selected)"]
    assert download(app, "export_csv") and download(app, "export_json")


def test_the_exported_json_is_the_runs_data(seeded):
    # The download's bytes are served by the media manager; the page builds them from these.
    from explorer.service.service import create_service
    from explorer.views.reports import run_to_json

    service = create_service(isolated=False)
    exported = json.loads(json.dumps([run_to_json(r) for r in service.runs()]))
    assert {run["run_id"] for run in exported} == set(seeded)
    service.shutdown()


def test_delete_asks_first_then_removes_the_run_and_its_files(seeded, tmp_path):
    app = history_page()
    doomed = table_run_ids(app)[2]
    tick(app, [2])
    app.button(key="delete_selected").click().run()
    assert "Delete 1 run(s)" in " ".join(element.value for element in app.markdown)
    assert RunStore(tmp_path / "home").get(doomed) is not None  # nothing deleted yet
    app.button(key="confirm_delete").click().run()
    assert not app.exception
    assert RunStore(tmp_path / "home").get(doomed) is None
    assert not (tmp_path / "home" / "runs" / doomed).exists()
    assert doomed not in table_run_ids(app)


def test_deleting_a_run_that_is_still_training_is_refused(seeded, tmp_path):
    store = RunStore(tmp_path / "home")
    store.register_instance("1111222233334444")  # a live trainer elsewhere holds it
    store._update(seeded[0], status="running", owner="1111222233334444")
    app = history_page()
    app.multiselect(key="status_filter").set_value(["running"]).run()
    tick(app, [0])
    app.button(key="delete_selected").click().run()
    app.button(key="confirm_delete").click().run()
    assert any("stop it before deleting it" in text for text in alerts(app, "error"))
    assert store.get(seeded[0]) is not None
