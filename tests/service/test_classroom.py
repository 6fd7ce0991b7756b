"""The challenge, nicknames and board, with a fake trainer whose half scores are chosen."""

from __future__ import annotations

import json

import pytest

from explorer.architecture import total_parameters
from explorer.config import TrainingConfig
from explorer.service.board import why_ranks_move
from explorer.service.classroom import Classroom, validate_nickname
from explorer.service.jobs import COMMAND_LINE, LimitError, Requester
from explorer.service.service import TrainingService
from explorer.store.challenges import ClassroomStore, NicknameTaken
from explorer.store.records import StoreError
from explorer.store.registry import RunStore
from testkit.classroom import ScoringTrainer
from testkit.fakes import tiny_data

ADA, BOB, CY = (Requester(name * 8, "student") for name in "abc")
TEACHER = Requester("t" * 8, "teacher")
# Public, private accuracy of each config's run (tiny_data(test=200): 100 digits per half).
SCORES = {8: (0.90, 0.70), 16: (0.80, 0.85), 32: (0.60, 0.60), 64: (0.95, 0.95)}


def config(hidden1: int, epochs: int = 1) -> TrainingConfig:
    return TrainingConfig(hidden1=hidden1, hidden2=0, epochs=epochs)


@pytest.fixture
def data():
    return tiny_data(test=200)


@pytest.fixture
def trainer():
    return ScoringTrainer(lambda config: SCORES[config.hidden1])


@pytest.fixture
def service(tmp_path, data, trainer):
    made = TrainingService(RunStore(tmp_path), lambda: data, trainer=trainer)
    yield made
    made.shutdown()


@pytest.fixture
def classroom(service):
    return Classroom(service)


def train(service, config_, requester):
    submission = service.submit(config_, requester)
    service.wait(submission.run_id, timeout=10)
    return submission.run_id


def contains_key(value, key: str) -> bool:
    if isinstance(value, dict):
        return key in value or any(contains_key(item, key) for item in value.values())
    if isinstance(value, list):
        return any(contains_key(item, key) for item in value)
    return False


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("<b>Ada</b>", "has / < >"),
        ("**Ada**", "has *"),
        ("[Ada](http://x.y)", "has ( ) / : ["),
        ("`Ada`", "has `"),
        ("A" * 25, "at most 24 characters; 'AAAAAAAAAAAAAAAAAAAAAAAAA' has 25"),
        ("   ", "at least one letter or digit"),
        ("Machine", "the search's name"),
    ],
    ids=["html", "bold", "link", "code", "too-long", "blank", "reserved"],
)
def test_a_nickname_with_markup_or_too_long_is_refused_with_a_reason(text, message):
    with pytest.raises(ValueError) as refused:
        validate_nickname(text)
    assert message in str(refused.value)


def test_a_plain_nickname_is_kept_as_typed_with_spaces_tidied():
    assert validate_nickname("  Zoë  O'Neil-2 ") == "Zoë O'Neil-2"
    assert validate_nickname("A" * 24) == "A" * 24


def test_nicknames_are_unique_within_a_challenge_whatever_the_case(classroom):
    classroom.start_challenge("Small", TEACHER)
    assert classroom.set_nickname(ADA, "Ada") == "Ada"
    with pytest.raises(NicknameTaken, match="'ADA' is taken"):
        classroom.set_nickname(BOB, "ADA")
    classroom.set_nickname(ADA, "Ada L")  # a session may change its own
    classroom.set_nickname(BOB, "Ada")  # then the old one is free
    assert classroom.nickname_of(BOB) == "Ada"
    assert classroom.nickname_of(ADA) == "Ada L"
    assert classroom.session_nicknames() == {ADA.session: "Ada L", BOB.session: "Ada"}
    classroom.end_challenge(TEACHER)
    assert classroom.session_nicknames() == {} and classroom.nickname_of(ADA) is None


def test_a_nickname_needs_a_challenge(classroom):
    with pytest.raises(ValueError, match="No challenge is on"):
        classroom.set_nickname(ADA, "Ada")


def test_one_challenge_at_a_time_and_it_survives_a_restart(tmp_path, service, classroom, data):
    started = classroom.start_challenge(
        "Small and sharp", TEACHER, max_params=10_000, max_epochs=2, max_seconds=60
    )
    with pytest.raises(StoreError, match="'Small and sharp' is still on"):
        classroom.start_challenge("Another", TEACHER)
    service.shutdown()
    restarted = Classroom(TrainingService(RunStore(tmp_path), lambda: data))
    assert restarted.challenge() == started
    assert restarted.challenge().to_json()["max_params"] == 10_000
    restarted.end_challenge(COMMAND_LINE)
    assert restarted.challenge() is None
    restarted.service.shutdown()


def test_a_student_can_neither_start_end_nor_reveal(classroom):
    with pytest.raises(LimitError, match="Only the teacher can start a challenge"):
        classroom.start_challenge("Mine", ADA)
    classroom.start_challenge("Small", TEACHER)
    with pytest.raises(LimitError, match="Only the teacher can reveal"):
        classroom.reveal(ADA)
    with pytest.raises(LimitError, match="Only the teacher can end"):
        classroom.end_challenge(ADA)


def test_limit_problems_name_each_broken_limit(classroom):
    classroom.start_challenge("Small", TEACHER, max_params=10_000, max_epochs=2)
    assert classroom.limit_problems(config(8)) == []
    wide = config(64, epochs=3)  # 784*64+64 + 64*10+10 = 50,890 parameters
    problems = classroom.limit_problems(wide)
    assert problems[0].startswith("The network has 50,890 parameters; the challenge allows at")
    assert problems[1] == "3 epochs; the challenge allows at most 2."


def test_the_board_ranks_each_nicknames_best_run_on_the_public_half(service, classroom):
    classroom.start_challenge("Best", TEACHER)
    classroom.set_nickname(ADA, "Ada")
    classroom.set_nickname(BOB, "Bob")
    train(service, config(32), ADA)
    train(service, config(8), ADA)  # Ada's best: 0.90
    train(service, config(16), BOB)  # Bob's: 0.80
    entries = classroom.board().to_json()["entries"]
    assert [(e["rank"], e["nickname"], e["public_accuracy"]) for e in entries] == [
        (1, "Ada", 0.90),
        (2, "Bob", 0.80),
    ]
    assert entries[0]["parameters"] == total_parameters(config(8))
    # A student is shown by nickname only, never by session id.
    shown = json.dumps(classroom.board().to_json())
    assert ADA.session not in shown and BOB.session not in shown


def test_private_figures_appear_only_after_reveal_and_ranks_move(service, classroom):
    classroom.start_challenge("Best", TEACHER)
    classroom.set_nickname(ADA, "Ada")
    classroom.set_nickname(BOB, "Bob")
    train(service, config(8), ADA)  # public 0.90, private 0.70
    train(service, config(16), BOB)  # public 0.80, private 0.85
    hidden = classroom.board().to_json()
    assert not contains_key(hidden, "private_accuracy") and not contains_key(hidden, "private_rank")
    assert "0.7" not in json.dumps(hidden) and "0.85" not in json.dumps(hidden)
    classroom.reveal(TEACHER)
    shown = classroom.board().to_json()
    moved = [
        (e["nickname"], e["rank"], e["private_rank"], e["rank_change"], e["private_accuracy"])
        for e in shown["entries"]
    ]
    assert moved == [("Ada", 1, 2, -1, 0.70), ("Bob", 2, 1, 1, 0.85)]
    # The sentence counts the public half of the data in use: 100 of tiny_data's 200 digits.
    assert "on those 100 digits also picks up their luck" in shown["why_ranks_move"]
    # The command line without --reveal still shows no private figure.
    assert not contains_key(classroom.board(reveal=False).to_json(), "private_accuracy")


def test_a_cached_result_counts_for_everyone_who_asks_during_the_challenge(
    service, classroom, trainer
):
    early = train(service, config(64), CY)  # before the challenge: counts for nobody
    classroom.start_challenge("Best", TEACHER)
    classroom.set_nickname(ADA, "Ada")
    classroom.set_nickname(BOB, "Bob")
    assert train(service, config(8), ADA) == train(service, config(8), BOB)
    entries = classroom.board().to_json()["entries"]
    assert {e["nickname"] for e in entries} == {"Ada", "Bob"}
    assert all(e["run_id"] != early for e in entries)
    assert [config_.hidden1 for config_ in trainer.calls] == [64, 8]  # trained once each


def test_a_hidden_nickname_is_not_shown(service, classroom):
    classroom.start_challenge("Best", TEACHER)
    classroom.set_nickname(ADA, "Ada")
    classroom.set_nickname(BOB, "Bob")
    train(service, config(8), ADA)
    train(service, config(16), BOB)
    with pytest.raises(LimitError, match="Only the teacher can hide a nickname"):
        classroom.hide_nickname("Bob", ADA)
    classroom.hide_nickname("ada", TEACHER)
    assert classroom.nicknames() == [("Ada", True), ("Bob", False)]
    board = classroom.board().to_json()
    assert [e["nickname"] for e in board["entries"]] == ["Bob"]
    assert "Ada" not in json.dumps(board)
    assert board["entries"][0]["rank"] == 1


def test_a_run_outside_the_limits_stays_off_the_board(service, classroom):
    classroom.start_challenge("Small", TEACHER, max_params=10_000, max_epochs=2)
    classroom.set_nickname(ADA, "Ada")
    classroom.set_nickname(BOB, "Bob")
    train(service, config(64), ADA)  # 0.95 but 50,890 parameters
    train(service, config(8, epochs=3), BOB)  # 3 epochs
    train(service, config(16), BOB)  # 12,730 parameters: over too
    train(service, config(8), ADA)  # 6,370 parameters, 1 epoch: in
    entries = classroom.board().to_json()["entries"]
    assert [(e["nickname"], e["public_accuracy"]) for e in entries] == [("Ada", 0.90)]


def test_a_nickname_stored_with_markup_is_shown_as_the_same_plain_text(service, classroom):
    challenge = classroom.start_challenge("Best", TEACHER)
    # A row written by an older version, or by hand: the board passes it on as text, verbatim.
    classroom.store.set_nickname(challenge.challenge_id, ADA.session, "<b>**Ada**</b>")
    train(service, config(8), ADA)
    assert classroom.board().to_json()["entries"][0]["nickname"] == "<b>**Ada**</b>"


def test_runs_stored_before_the_classroom_are_scored_from_their_predictions(tmp_path, data):
    trainer = ScoringTrainer(lambda config: SCORES[config.hidden1])
    service = TrainingService(RunStore(tmp_path), lambda: data, trainer=trainer)
    run_id = train(service, config(16), COMMAND_LINE)
    classroom = Classroom(service)  # its tables are made now, after the run
    scores = classroom.half_scores([service.get(run_id)])[run_id]
    assert (scores.public_accuracy, scores.private_accuracy) == (0.80, 0.85)
    assert ClassroomStore(service.store.path).scores()[run_id] == (0.80, 0.85)
    service.shutdown()


def test_the_board_reads_the_store_once_per_change(service, classroom, monkeypatch):
    classroom.start_challenge("Best", TEACHER)
    classroom.set_nickname(ADA, "Ada")
    train(service, config(8), ADA)
    reads = []
    original = classroom.store.requests
    monkeypatch.setattr(
        classroom.store, "requests", lambda *args: reads.append(args) or original(*args)
    )
    for _ in range(30):  # thirty sessions rerun
        classroom.board()
    assert len(reads) == 1
    train(service, config(16), ADA)
    assert [e["public_accuracy"] for e in classroom.board().to_json()["entries"]] == [0.90]
    assert len(reads) == 2


def test_best_so_far_has_a_line_for_the_class_and_one_for_the_machine(service, classroom):
    from explorer.service.search import MACHINE

    classroom.start_challenge("Best", TEACHER)
    classroom.set_nickname(ADA, "Ada")
    train(service, config(32), ADA)
    train(service, config(8), ADA)
    train(service, config(16), MACHINE)
    frame = classroom.best_so_far()
    rows = [tuple(row) for row in frame.itertuples(index=False)]
    assert rows == [("class", 1, 0.60), ("class", 2, 0.90), ("machine", 1, 0.80)]
    assert [e["nickname"] for e in classroom.board().to_json()["entries"]] == ["Ada", "machine"]


def test_why_ranks_move_counts_the_public_half_of_the_data_in_use():
    # The bundled sample's 1,000 test digits have a public half of 500; full MNIST's, 5,000.
    assert "on those 500 digits" in why_ranks_move(500)
    assert "on those 5,000 digits" in why_ranks_move(5_000)
