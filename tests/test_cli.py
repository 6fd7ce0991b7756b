"""`python -m explorer`: train through the service and store, list runs, reject bad values."""

import csv
import io
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from explorer.cli import main
from explorer.config import TrainingConfig
from explorer.service.service import TrainingService
from explorer.store.registry import RunStore
from tests.conftest import FULL_MNIST_DIR

ROOT = Path(__file__).resolve().parents[1]
QUICK = ["--hidden1", "16", "--hidden2", "0", "--epochs", "1", "--train-fraction", "0.1"]
QUICK_CONFIG = TrainingConfig(hidden1=16, hidden2=0, epochs=1, train_fraction=0.1)
UNKNOWN_RUN = "0123456789abcdef"


def run_cli(*arguments, env=None, timeout=300):
    return subprocess.run(
        [sys.executable, "-m", "explorer", *arguments],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--hidden1", "0"], "hidden1 must be a whole number from 1 to 1,024; got 0."),
        (["--hidden1", "abc"], "hidden1 must be a whole number"),
        (["--epochs", "-2"], "epochs must be a whole number from 1 to 50"),
        (["--batch-size", "1e12"], "batch_size must be a whole number from 1 to 60,000"),
        (["--learning-rate", "nan"], "learning_rate must be a number from 1e-05 to 1"),
        (["--learning-rate", "inf"], "learning_rate must be a number"),
        (["--optimizer", "adagrad"], "optimizer must be one of sgd, adam, rmsprop"),
        (["--activation", "gelu"], "activation must be one of relu, tanh, sigmoid"),
        (["--train-fraction", "0"], "train_fraction must be a number from 0.01 to 1"),
        (["--colour", "red"], "unrecognized arguments: --colour red"),
    ],
)
def test_bad_arguments_exit_2_with_the_pages_message(arguments, message, capsys):
    with pytest.raises(SystemExit) as exited:
        main(["train", *arguments])
    assert exited.value.code == 2
    assert message in capsys.readouterr().err


def test_runs_on_an_empty_store(capsys):
    assert main(["runs"]) == 0
    assert "No runs stored yet" in capsys.readouterr().out
    assert main(["runs", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []


@pytest.mark.slow
def test_train_then_cache_hit_from_a_new_process_without_tensorflow():
    first = run_cli("train", *QUICK, "--json")
    assert first.returncode == 0, first.stderr
    payload = json.loads(first.stdout)
    for key in (
        "run_id",
        "config",
        "cached",
        "status",
        "data_source",
        "params_total",
        "params_per_layer",
        "test_accuracy",
        "thresholded_accuracy",
        "confusion_matrix",
        "history",
        "train_seconds",
    ):
        assert key in payload
    assert payload["cached"] is False and payload["status"] == "complete"
    assert payload["data_source"] == "sample"
    assert payload["params_total"] == 784 * 16 + 16 + 16 * 10 + 10
    assert payload["confusion_rows_match_class_counts"] is True
    assert len(payload["history"]) == 1

    # A new process: cache hit, same run, and TensorFlow never imported.
    probe = (
        "import sys, json; from explorer.cli import main; "
        f"code = main(['train', *{QUICK!r}, '--json']); "
        "print(json.dumps({'code': code, 'tf': 'tensorflow' in sys.modules}))"
    )
    second = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    lines = second.stdout.strip().splitlines()
    probe_result = json.loads(lines[-1])
    again = json.loads("\n".join(lines[:-1]))
    assert probe_result == {"code": 0, "tf": False}
    assert again["cached"] is True and again["run_id"] == payload["run_id"]
    assert again["test_accuracy"] == payload["test_accuracy"]

    listing = run_cli("runs", "--csv")
    assert payload["run_id"] in listing.stdout
    assert listing.stdout.splitlines()[0].startswith("run_id,status,label,data,hidden1")


@pytest.mark.slow
@pytest.mark.skipif(not FULL_MNIST_DIR, reason="needs EXPLORER_DATA_DIR with the full MNIST")
def test_tutorial_config_on_full_mnist_reaches_about_90_percent():
    result = run_cli("train", "--json", env={"EXPLORER_DATA_DIR": FULL_MNIST_DIR}, timeout=600)
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["data_source"] == "data-dir"
    assert payload["params_total"] == 322_230
    assert 0.88 <= payload["test_accuracy"] <= 0.93
    assert payload["thresholded_accuracy"] < payload["test_accuracy"]
    assert payload["test_class_counts"] == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert payload["confusion_rows_match_class_counts"] is True
    assert len(payload["history"]) == 5
    again = run_cli("train", "--json", env={"EXPLORER_DATA_DIR": FULL_MNIST_DIR})
    assert json.loads(again.stdout)["cached"] is True


# -- predict and export ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory, sample_data):
    """A real run of QUICK_CONFIG trained in this process on the bundled sample: (home, run_id)."""
    home = tmp_path_factory.mktemp("trained-home")
    service = TrainingService(RunStore(home), lambda: sample_data)
    try:
        run_id = service.submit(QUICK_CONFIG).run_id
        progress = service.wait(run_id, timeout=240)
        assert progress.status == "complete", progress.error
    finally:
        service.shutdown()
    return home, run_id


def save_png(folder: Path, name: str, image: np.ndarray) -> str:
    path = folder / name
    Image.fromarray(image).save(path)
    return str(path)


def zipped_model_predictions(archive_path: Path, folder: Path, digits: np.ndarray) -> np.ndarray:
    import keras

    with zipfile.ZipFile(archive_path) as archive:
        archive.extract("model.keras", folder)
    model = keras.saving.load_model(folder / "model.keras", safe_mode=True)
    return model.predict(digits.reshape(len(digits), -1).astype(np.float32) / 255, verbose=0)


@pytest.mark.slow
def test_predict_reads_test_digits_as_the_run_did(
    trained_run, sample_data, tmp_path, monkeypatch, capsys
):
    home, run_id = trained_run
    monkeypatch.setenv("EXPLORER_HOME", str(home))
    stored = RunStore(home).load_predictions(run_id)
    for index in range(12):
        path = save_png(tmp_path, f"digit{index}.png", sample_data.x_test[index])
        assert main(["predict", run_id, path, "--json"]) == 0
        payload = json.loads(capsys.readouterr().out)
        assert set(payload) == {"run_id", "prediction", "probabilities"}
        assert payload["run_id"] == run_id
        assert payload["prediction"] == int(stored.predicted_labels[index])
        expected = stored.probabilities[index].astype(np.float32)
        np.testing.assert_allclose(payload["probabilities"], expected, atol=1e-3)
    assert main(["predict", run_id, path]) == 0
    text = capsys.readouterr().out
    assert f"{stored.predicted_labels[11]} (" in text.splitlines()[0]
    assert len(text.splitlines()) == 11  # the verdict, then one line per digit


@pytest.mark.slow
def test_predict_never_loads_tensorflow(trained_run, sample_data, tmp_path):
    home, run_id = trained_run
    path = save_png(tmp_path, "digit.png", sample_data.x_test[0])
    probe = (
        "import sys, json; from explorer.cli import main; "
        f"code = main(['predict', {run_id!r}, {path!r}, '--json']); "
        "print(json.dumps({'code': code, 'tf': 'tensorflow' in sys.modules}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        env={**os.environ, "EXPLORER_HOME": str(home)},
    )
    lines = result.stdout.strip().splitlines()
    assert json.loads(lines[-1]) == {"code": 0, "tf": False}, result.stderr
    assert json.loads(lines[0])["run_id"] == run_id


def test_predict_refuses_what_it_cannot_use_with_status_2(tmp_path, sample_data, capsys):
    digit = save_png(tmp_path, "digit.png", sample_data.x_test[0])
    (tmp_path / "notes.png").write_text("not a picture")
    store = RunStore()  # this test's own empty EXPLORER_HOME
    failed, _ = store.claim(QUICK_CONFIG, "key", "sample")
    store.mark_ended(failed, "it broke")
    cases = [
        (["predict", UNKNOWN_RUN, str(tmp_path / "notes.png")], "is not an image"),
        (["predict", UNKNOWN_RUN, str(tmp_path / "absent.png")], "There is no file"),
        (["predict", UNKNOWN_RUN, digit], f"There is no run {UNKNOWN_RUN}"),
        (["predict", "../../etc", digit], "is not a valid run id"),
        (["predict", failed, digit, "--json"], f"Run {failed} is failed"),
        (["export", UNKNOWN_RUN], f"There is no run {UNKNOWN_RUN}"),
        (["export", "nope"], "is not a valid run id"),
    ]
    for arguments, message in cases:
        assert main(arguments) == 2, arguments
        captured = capsys.readouterr()
        assert message in captured.err and not captured.out


@pytest.mark.slow
def test_export_holds_a_model_that_predicts_what_the_run_stored(
    trained_run, sample_data, tmp_path, monkeypatch, capsys
):
    home, run_id = trained_run
    monkeypatch.setenv("EXPLORER_HOME", str(home))
    out = tmp_path / "run.zip"
    assert main(["export", run_id, "--out", str(out)]) == 0
    assert f"Wrote {out}" in capsys.readouterr().out
    with zipfile.ZipFile(out) as archive:
        assert {"model.keras", "config.json", "history.csv", "metrics.csv"} <= set(
            archive.namelist()
        )
        assert "confusion_matrix.png" in archive.namelist()
    stored = RunStore(home).load_predictions(run_id)
    probabilities = zipped_model_predictions(out, tmp_path, sample_data.x_test)
    np.testing.assert_array_equal(probabilities.argmax(axis=1), stored.predicted_labels)
    np.testing.assert_allclose(probabilities, stored.probabilities.astype(np.float32), atol=1e-3)


@pytest.mark.slow
def test_export_builds_the_model_of_a_run_stored_without_one(
    trained_run, sample_data, tmp_path, monkeypatch, capsys
):
    home, run_id = trained_run
    older = tmp_path / "older-home"
    shutil.copytree(home, older)
    (older / "runs" / run_id / "model.keras").unlink()  # as runs stored before models were kept
    monkeypatch.setenv("EXPLORER_HOME", str(older))
    out = tmp_path / "older.zip"
    assert main(["export", run_id, "--out", str(out)]) == 0
    assert "building it from its weights" in capsys.readouterr().err
    stored = RunStore(older).load_predictions(run_id)
    probabilities = zipped_model_predictions(out, tmp_path, sample_data.x_test)
    np.testing.assert_array_equal(probabilities.argmax(axis=1), stored.predicted_labels)
    np.testing.assert_allclose(probabilities, stored.probabilities.astype(np.float32), atol=1e-3)


def test_sweep_with_seeds_prints_runs_with_workers_and_groups(capsys):
    arguments = ["sweep", "--hidden1", "8,12", "--hidden2", "0", "--epochs", "1"]
    arguments += ["--train-fraction", "0.05", "--seeds", "0,1", "--json"]
    assert main(arguments) == 0
    output = json.loads(capsys.readouterr().out)
    runs = output["runs"]
    assert len(runs) == 4 and {run["status"] for run in runs} == {"complete"}
    assert all(run["worker"].startswith("local:") for run in runs)
    assert all(run["started_at"] < run["finished_at"] for run in runs)
    groups = output["groups"]
    assert [(group["config"]["hidden1"], group["n"], group["seeds"]) for group in groups] == [
        (8, 2, [0, 1]),
        (12, 2, [0, 1]),
    ]
    for group in groups:
        accuracies = [r["test_accuracy"] for r in runs if r["run_id"] in group["runs"]]
        assert group["mean"] == pytest.approx(sum(accuracies) / 2)
    # Run again: every run is stored, nothing trains.
    assert main(arguments) == 0
    assert all(run["cached"] for run in json.loads(capsys.readouterr().out)["runs"])


def test_a_bad_sweep_value_exits_2_with_trains_message(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["sweep", "--hidden1", "8,5000"])
    assert exited.value.code == 2
    assert "hidden1 must be a whole number from 1 to 1,024; got 5,000." in capsys.readouterr().err


def test_sweep_seeds_as_a_count_or_a_list_are_the_same_runs_as_a_links():
    from explorer.cli import _configs, build_parser
    from explorer.views.sweeps import SweepSpec, sweep_configs

    def configs(*arguments):
        return _configs(build_parser().parse_args(["sweep", *arguments]))

    listed = configs("--hidden1", "8,12", "--hidden2", "0", "--seeds", "0,1,2")
    assert listed == configs("--hidden1", "8,12", "--hidden2", "0", "--seeds", "3")
    link = SweepSpec.from_query({"sweep": "hidden1:8,12", "hidden2": "0", "seeds": "3"})
    assert listed == sweep_configs(link)
    assert [(config.hidden1, config.seed) for config in listed] == [
        (8, 0),
        (8, 1),
        (8, 2),
        (12, 0),
        (12, 1),
        (12, 2),
    ]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--hidden1", "8,16", "--epochs", "1,2", "--batch-size", "32,64"], "one or two settings"),
        (["--hidden1", "8,16,32,64,128,256,512", "--epochs", "1,2,3", "--seeds", "3"], "is 60"),
        (["--hidden1", "8,16", "--seeds", "5,7"], "from 1 to 10 (3: seeds 0, 1 and 2)"),
    ],
    ids=["three settings", "over the cap", "other seeds"],
)
def test_a_sweep_beyond_the_pages_format_exits_2(capsys, arguments, message):
    with pytest.raises(SystemExit) as exited:
        main(["sweep", *arguments])
    assert exited.value.code == 2
    assert message in capsys.readouterr().err


def test_delete_refuses_an_active_run_and_deletes_finished_ones(capsys):
    from explorer.store.registry import RunStore

    assert main(["train", *QUICK, "--json"]) == 0
    finished = json.loads(capsys.readouterr().out)["run_id"]
    store = RunStore()
    store.register_instance("feedfacefeedface")  # a live trainer elsewhere
    config = TrainingConfig(hidden1=9)
    active, _ = store.claim(config, "key", "sample", owner="feedfacefeedface")
    assert main(["delete", active]) == 1
    assert "stop it before deleting it" in capsys.readouterr().err
    assert main(["stop", active]) == 0
    assert "Asked its trainer to stop" in capsys.readouterr().out
    assert store.get(active).stop_requested
    assert main(["delete", finished]) == 0
    assert store.get(finished) is None


def test_warm_trains_a_lessons_runs(tmp_path, capsys):
    lesson = tmp_path / "tiny.toml"
    lesson.write_text(
        "title = 'Tiny'\n[[steps]]\ntitle = 'a'\nnote = 'b'\n"
        "compare = [ { hidden1 = 6, hidden2 = 0, epochs = 1, train_fraction = 0.05 },"
        " { hidden1 = 7, hidden2 = 0, epochs = 1, train_fraction = 0.05 } ]\n"
    )
    assert main(["warm", str(lesson), "--json"]) == 0
    runs = json.loads(capsys.readouterr().out)["runs"]
    assert sorted(run["config"]["hidden1"] for run in runs) == [6, 7]
    bad = tmp_path / "bad.toml"
    bad.write_text("title = 'x'\n[[steps]]\ntitle = 'a'\nnote = 'b'\nconfig = { epochs = 0 }\n")
    with pytest.raises(SystemExit) as exited:
        main(["warm", str(bad)])
    assert exited.value.code == 2


def test_doctor_rebuilds_a_damaged_registry_from_the_run_folders(capsys):
    from explorer.store.registry import RunStore, default_home

    assert main(["train", *QUICK, "--json"]) == 0
    run_id = json.loads(capsys.readouterr().out)["run_id"]
    registry = default_home() / "runs.db"
    for suffix in ("-wal", "-shm"):
        Path(f"{registry}{suffix}").unlink(missing_ok=True)
    registry.write_bytes(b"garbage" * 1000)
    assert main(["runs"]) == 1
    assert "python -m explorer doctor" in capsys.readouterr().err
    assert main(["doctor"]) == 0
    report = capsys.readouterr().out
    assert "moved the damaged registry aside" in report and "put back 1 run(s)" in report
    record = RunStore().get(run_id)
    assert record.status == "complete" and record.config == QUICK_CONFIG
    assert list(default_home().glob("runs.db.damaged-*"))  # nothing deleted


def test_runs_csv_never_starts_a_formula(tmp_path, monkeypatch, capsys, sample_data):
    from testkit.fakes import fake_result

    monkeypatch.setenv("EXPLORER_HOME", str(tmp_path))
    store = RunStore(tmp_path)
    config = TrainingConfig(hidden1=8)
    # A stored text a prankster put in the store (here the data source's name).
    run_id, _ = store.claim(config, "key-1", '=HYPERLINK("http://example.com","x")')
    store.finish(run_id, fake_result(config, sample_data, [{"epoch": 1, "loss": 0.5}]))
    assert main(["runs", "--csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert rows[0]["data"].startswith("'=HYPERLINK(")
    assert rows[0]["hidden1"] == "8"


def test_doctor_lists_runs_whose_files_are_gone_and_repair_marks_them(
    tmp_path, monkeypatch, capsys, sample_data
):
    from testkit.fakes import fake_result

    monkeypatch.setenv("EXPLORER_HOME", str(tmp_path))
    store = RunStore(tmp_path)
    ids = []
    for hidden1 in (8, 9, 10):
        config = TrainingConfig(hidden1=hidden1)
        run_id, _ = store.claim(config, f"key-{hidden1}", "sample")
        store.finish(run_id, fake_result(config, sample_data, [{"epoch": 1, "loss": 0.5}]))
        ids.append(run_id)
    without_folder, without_predictions, whole = ids
    shutil.rmtree(store.runs_dir / without_folder)
    (store.runs_dir / without_predictions / "predictions.npz").unlink()
    files_before = sorted(path for path in tmp_path.rglob("*") if path.is_file())

    assert main(["doctor"]) == 1
    report = capsys.readouterr().out
    assert "2 finished run(s) are damaged, their files are gone" in report
    assert f"{without_folder} (its folder)" in report
    assert f"{without_predictions} (predictions.npz)" in report
    assert whole not in report
    assert store.get(without_folder).status == "complete"  # only listed without --repair

    assert main(["doctor", "--repair"]) == 0
    assert "marked 2 run(s) failed: their files are gone" in capsys.readouterr().out
    assert store.get(without_folder).status == "failed"
    assert "Its files are gone (predictions.npz missing)" in store.get(without_predictions).error
    assert store.get(whole).status == "complete"
    files_after = sorted(path for path in tmp_path.rglob("*") if path.is_file())
    assert set(files_before) <= set(files_after)  # nothing deleted
    assert main(["doctor"]) == 0
    assert "no problems found" in capsys.readouterr().out


def test_a_ray_cluster_that_cannot_be_reached_gets_one_message_and_exit_1(capsys):
    from testkit.server import free_port

    port = free_port()  # nothing listens there
    assert main(["train", *QUICK, "--ray", f"127.0.0.1:{port}"]) == 1
    error = capsys.readouterr().err
    assert error.startswith(f"error: Could not reach the Ray cluster at 127.0.0.1:{port} (")
    assert "Connection refused" in error
    for advice in ("Check the address", "the token", "--node-ip-address"):
        assert advice in error
    assert "Traceback" not in error and len(error.strip().splitlines()) == 1
