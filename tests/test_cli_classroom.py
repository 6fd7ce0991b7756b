"""`python -m explorer challenge | board | importance | search`, and `--nickname`, in process
with a fake trainer whose half scores are chosen (the same service and store as the page)."""

from __future__ import annotations

import csv
import io
import itertools
import json
import math

import pytest

from explorer import cli
from explorer.architecture import total_parameters
from explorer.config import TrainingConfig
from explorer.service.queue import Limits
from explorer.service.service import TrainingService
from explorer.store.registry import RunStore, default_home
from testkit.classroom import ScoringTrainer
from testkit.fakes import tiny_data

# Public, private accuracy by hidden1 (tiny_data(test=200): 100 digits in each half).
SCORES = {8: (0.90, 0.70), 16: (0.80, 0.85), 64: (0.95, 0.95)}


def accuracy(config: TrainingConfig) -> tuple[float, float]:
    if config.hidden1 in SCORES:
        return SCORES[config.hidden1]
    score = min(0.99, 0.5 + 0.04 * math.log2(config.hidden1)) - 0.01 * config.seed
    return score, score


@pytest.fixture(autouse=True)
def fake_service(monkeypatch):
    """Every command gets a service on the test's store with the fake trainer."""
    data = tiny_data(test=200)

    def service(arguments):
        return TrainingService(
            RunStore(default_home()),
            lambda: data,
            trainer=ScoringTrainer(accuracy),
            limits=Limits(drop_orphans=False),
        )

    monkeypatch.setattr(cli, "_service", service)


def run(capsys, *arguments) -> tuple[int, str, str]:
    status = cli.main(list(arguments))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def train(capsys, hidden1: int, *extra: str) -> dict:
    status, out, _ = run(
        capsys,
        "train",
        "--hidden1",
        str(hidden1),
        "--hidden2",
        "0",
        "--epochs",
        "1",
        "--json",
        *extra,
    )
    assert status == 0
    return json.loads(out)


def test_challenge_start_show_and_end(capsys):
    status, out, _ = run(
        capsys,
        "challenge",
        "start",
        "Small and sharp",
        "--max-params",
        "10000",
        "--max-epochs",
        "2",
        "--max-seconds",
        "30",
    )
    assert status == 0
    assert out == (
        "Started: Small and sharp (at most 10,000 parameters; at most 2 epochs; at most 30 s of "
        "training)\n"
    )
    status, out, _ = run(capsys, "challenge", "show", "--json")
    shown = json.loads(out)["challenge"]
    assert (shown["title"], shown["max_params"], shown["max_epochs"], shown["max_seconds"]) == (
        "Small and sharp",
        10_000,
        2,
        30.0,
    )
    assert shown["active"] and not shown["revealed"]
    status, _, err = run(capsys, "challenge", "start", "Another")
    assert status == 1 and "'Small and sharp' is still on" in err
    assert run(capsys, "challenge", "end")[0] == 0
    assert json.loads(run(capsys, "challenge", "show", "--json")[1]) == {"challenge": None}


def test_a_bad_limit_exits_1_with_the_field_named(capsys):
    status, _, err = run(capsys, "challenge", "start", "Small", "--max-params", "0")
    assert status == 1 and "max_params must be a number above 0, or none; got 0." in err


def test_board_json_ranks_nicknames_and_shows_private_figures_only_with_reveal(capsys):
    run(capsys, "challenge", "start", "Best", "--max-params", "20000")
    ada = train(capsys, 8, "--nickname", "Ada")
    bob = train(capsys, 16, "--nickname", "Bob")
    train(capsys, 64, "--nickname", "Cy")  # 50,890 parameters: off the board
    status, out, _ = run(capsys, "board", "--json")
    board = json.loads(out)
    assert status == 0 and board["challenge"]["title"] == "Best"
    assert [
        (e["rank"], e["nickname"], e["run_id"], e["public_accuracy"], e["parameters"])
        for e in board["entries"]
    ] == [
        (1, "Ada", ada["run_id"], 0.90, total_parameters(TrainingConfig(hidden1=8, hidden2=0))),
        (2, "Bob", bob["run_id"], 0.80, total_parameters(TrainingConfig(hidden1=16, hidden2=0))),
    ]
    assert "private" not in out and "0.7" not in out and "0.85" not in out
    status, out, _ = run(capsys, "board", "--reveal", "--json")
    revealed = json.loads(out)["entries"]
    assert [
        (e["nickname"], e["private_accuracy"], e["private_rank"], e["rank_change"])
        for e in revealed
    ] == [("Ada", 0.70, 2, -1), ("Bob", 0.85, 1, 1)]
    # After the Reveal, a board without --reveal still prints no private figure.
    assert "private" not in run(capsys, "board", "--json")[1]
    text = run(capsys, "board", "--reveal")[1]
    assert "  1. Ada" in text and "rank 2 (-1)" in text and "Ranks move because" in text


def test_a_cached_run_counts_for_each_nickname_that_asks(capsys):
    run(capsys, "challenge", "start", "Best")
    first = train(capsys, 8, "--nickname", "Ada")
    second = train(capsys, 8, "--nickname", "Bob")
    assert second["cached"] and second["run_id"] == first["run_id"]
    entries = json.loads(run(capsys, "board", "--json")[1])["entries"]
    assert [(e["nickname"], e["run_id"]) for e in entries] == [
        ("Ada", first["run_id"]),
        ("Bob", first["run_id"]),
    ]


def test_a_nickname_with_markup_is_refused_and_one_without_a_challenge_too(capsys):
    status, _, err = run(capsys, "train", "--hidden1", "8", "--nickname", "<b>Ada</b>")
    assert status == 1 and "No challenge is on" in err
    run(capsys, "challenge", "start", "Best")
    status, _, err = run(capsys, "train", "--hidden1", "8", "--nickname", "<b>Ada</b>")
    assert status == 1 and "A nickname may hold letters, digits, spaces" in err
    status, _, err = run(capsys, "train", "--hidden1", "8", "--nickname", "x" * 25)
    assert status == 1 and "at most 24 characters" in err


def test_sweep_with_a_nickname_counts_every_cell(capsys):
    run(capsys, "challenge", "start", "Best")
    status, _, _ = run(
        capsys,
        "sweep",
        "--hidden1",
        "8,16",
        "--hidden2",
        "0",
        "--epochs",
        "1",
        "--nickname",
        "Ada",
        "--json",
    )
    assert status == 0
    entries = json.loads(run(capsys, "board", "--json")[1])["entries"]
    assert [(e["nickname"], e["public_accuracy"]) for e in entries] == [("Ada", 0.90)]


def test_runs_json_and_csv_gain_both_half_accuracies(capsys):
    trained = train(capsys, 16)
    runs = json.loads(run(capsys, "runs", "--json")[1])
    assert (runs[0]["public_accuracy"], runs[0]["private_accuracy"]) == (0.80, 0.85)
    # Equal halves: the mean of the two is the test accuracy.
    assert trained["test_accuracy"] == pytest.approx((0.80 + 0.85) / 2)
    rows = list(csv.DictReader(io.StringIO(run(capsys, "runs", "--csv")[1])))
    assert (rows[0]["public_accuracy"], rows[0]["private_accuracy"]) == ("0.8", "0.85")


def test_importance_needs_enough_runs_then_prints_the_shares(capsys):
    status, out, err = run(capsys, "importance", "--json")
    assert status == 1 and out == "" and "Cannot tell yet: 0 complete runs" in err
    for hidden1, batch, seed in itertools.product((4, 32, 256), (100, 200), range(3)):
        status, _, _ = run(
            capsys,
            "train",
            "--hidden1",
            str(hidden1),
            "--hidden2",
            "0",
            "--batch-size",
            str(batch),
            "--seed",
            str(seed),
            "--epochs",
            "1",
            "--json",
        )
        assert status == 0
    status, out, _ = run(capsys, "importance", "--json")
    result = json.loads(out)
    assert status == 0 and result["runs"] == 18
    assert [item["setting"] for item in result["importances"]] == ["hidden1", "batch_size"]
    assert result["importances"][0]["above_noise"] and not result["importances"][1]["above_noise"]
    assert set(result) == {"runs", "seed_share", "importances"}
    # The same runs, the same numbers.
    assert json.loads(run(capsys, "importance", "--json")[1]) == result
    # The bundled sample's runs are a data set of their own: none here.
    assert run(capsys, "importance", "--data", "sample")[0] == 1


def test_search_json_stays_within_the_limits_and_repeats_from_an_empty_store(
    capsys, monkeypatch, tmp_path
):
    arguments = (
        "search",
        "--trials",
        "6",
        "--max-params",
        "20000",
        "--max-epochs",
        "2",
        "--seed",
        "5",
        "--json",
    )
    status, out, _ = run(capsys, *arguments)
    first = json.loads(out)
    assert status == 0 and len(first["trials"]) == 6
    for trial in first["trials"]:
        assert trial["params_total"] <= 20_000 and trial["config"]["epochs"] <= 2
        assert {"run_id", "config", "test_accuracy", "public_accuracy"} <= set(trial)
    assert first["best"]["public_accuracy"] == max(t["public_accuracy"] for t in first["trials"])
    monkeypatch.setenv("EXPLORER_HOME", str(tmp_path / "empty"))
    second = json.loads(run(capsys, *arguments)[1])
    assert [t["config"] for t in second["trials"]] == [t["config"] for t in first["trials"]]


def test_search_takes_the_challenges_limits_and_joins_its_board(capsys):
    run(capsys, "challenge", "start", "Small", "--max-params", "9000", "--max-epochs", "1")
    status, out, _ = run(capsys, "search", "--trials", "3", "--json")
    trials = json.loads(out)["trials"]
    assert status == 0
    assert all(t["params_total"] <= 9_000 and t["config"]["epochs"] == 1 for t in trials)
    entries = json.loads(run(capsys, "board", "--json")[1])["entries"]
    assert [e["nickname"] for e in entries] == ["machine"]


@pytest.mark.slow
def test_the_real_commands_on_the_bundled_sample(tmp_path):
    """The commands as a teacher types them: real trainings on the sample, its own halves."""
    from tests.test_cli import QUICK, run_cli

    env = {"EXPLORER_HOME": str(tmp_path / "home")}
    started = run_cli("challenge", "start", "Tiny", "--max-params", "20000", env=env)
    assert started.returncode == 0, started.stderr
    trained = run_cli("train", *QUICK, "--nickname", "Ada", "--json", env=env)
    assert trained.returncode == 0, trained.stderr
    run = json.loads(trained.stdout)
    board = json.loads(run_cli("board", "--json", env=env).stdout)
    assert [(e["nickname"], e["run_id"]) for e in board["entries"]] == [("Ada", run["run_id"])]
    listed = json.loads(run_cli("runs", "--json", env=env).stdout)[0]
    # The sample's halves have 500 digits each: their mean is the test accuracy.
    mean = (listed["public_accuracy"] + listed["private_accuracy"]) / 2
    assert mean == pytest.approx(run["test_accuracy"])
    searched = run_cli(
        "search",
        "--trials",
        "2",
        "--max-epochs",
        "1",
        "--train-fraction",
        "0.1",
        "--json",
        env=env,
    )
    assert searched.returncode == 0, searched.stderr
    trials = json.loads(searched.stdout)["trials"]
    assert len(trials) == 2 and all(t["params_total"] <= 20_000 for t in trials)
    assert "A new study created" not in searched.stderr
    # Full MNIST's runs and the sample's are never mixed: none of the first, three of the other.
    too_few = run_cli("importance", env=env)
    assert too_few.returncode == 1 and "Cannot tell yet: 0 complete runs" in too_few.stderr
    too_few = run_cli("importance", "--data", "sample", env=env)
    assert too_few.returncode == 1 and "Cannot tell yet: 3 complete runs" in too_few.stderr
