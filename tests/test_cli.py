"""`python -m explorer`: train through the service and store, list runs, reject bad values."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from explorer.cli import main
from tests.conftest import FULL_MNIST_DIR

ROOT = Path(__file__).resolve().parents[1]
QUICK = ["--hidden1", "16", "--hidden2", "0", "--epochs", "1", "--train-fraction", "0.1"]


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
