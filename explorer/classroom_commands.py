"""The command line's class commands: a challenge, its board, what mattered, the machine's search.

    python -m explorer challenge start "Small and sharp" --max-params 50000 --max-epochs 5
    python -m explorer challenge show [--json]
    python -m explorer challenge end
    python -m explorer train --hidden1 64 --nickname Ada      # counts for Ada on the board
    python -m explorer board [--json] [--reveal]              # --reveal: the private half too
    python -m explorer importance [--json] [--data sample]    # what mattered (full MNIST)
    python -m explorer search --trials 20 --max-params 50000 --seed 0 --workers 2 [--json]

They use the same service and store as the page (explorer.service.classroom), so a teacher can
prepare a class here and see it there. `board` without --reveal prints no private figure at all;
with --reveal it also records the Reveal, so the students' pages show the private half too.
`importance` exits with status 1, saying what it needs, while it cannot tell yet.
"""

from __future__ import annotations

import argparse
import json
import sys

from explorer.service.classroom import DATA_SETS, Classroom, classroom_of
from explorer.service.jobs import COMMAND_LINE, Requester, Role
from explorer.service.search import MachineSearch, SearchSpec
from explorer.service.service import TrainingService
from explorer.store.challenges import Challenge
from explorer.store.records import Status

CLASS_COMMANDS = ("challenge", "board", "importance", "search")


def add_parsers(commands, executor_flags) -> None:
    """Add the class commands to the command line's subparsers."""
    challenge = commands.add_parser("challenge", help="start, show or end the class's challenge")
    actions = challenge.add_subparsers(dest="action", required=True)
    start = actions.add_parser("start", help="start a challenge (one at a time)")
    start.add_argument("title", metavar="TITLE")
    _limit_flags(start)
    actions.add_parser("end", help="end the challenge (its board stays)")
    show = actions.add_parser("show", help="the challenge and its limits")
    show.add_argument("--json", action="store_true", help="print JSON")

    board = commands.add_parser("board", help="the challenge's board, ranked on the public half")
    board.add_argument("--json", action="store_true", help='print {"challenge", "entries"}')
    board.add_argument(
        "--reveal", action="store_true", help="show the private half's scores (for everyone)"
    )

    importance = commands.add_parser(
        "importance", help="what mattered: each setting's share of the accuracy's variation"
    )
    importance.add_argument("--json", action="store_true", help="print JSON")
    importance.add_argument(
        "--data", choices=DATA_SETS, default="mnist", help="which runs: full MNIST's (mnist)"
    )

    search = commands.add_parser(
        "search", help="the machine as a classmate: a TPE search within the limits"
    )
    search.add_argument("--trials", type=int, required=True, metavar="N", help="trials in all")
    _limit_flags(search)
    search.add_argument("--seed", type=int, default=0, help="the sampler's seed (0)")
    search.add_argument(
        "--train-fraction", type=float, default=1.0, help="share of the training set (1)"
    )
    search.add_argument(
        "--learn-from-class", action="store_true", help="learn from the class's runs too"
    )
    executor_flags(search)
    search.add_argument("--json", action="store_true", help='print {"trials", "best"}')
    for command in (challenge, board, importance):
        command.add_argument("--data-dir", help=argparse.SUPPRESS)


def _limit_flags(command: argparse.ArgumentParser) -> None:
    command.add_argument("--max-params", type=int, metavar="P", help="most parameters")
    command.add_argument("--max-epochs", type=int, metavar="E", help="most epochs")
    command.add_argument(
        "--max-seconds", type=float, metavar="S", help="longest estimated training time"
    )


def nickname_requester(service: TrainingService, nickname: str) -> Requester:
    """The command line asking on behalf of `nickname` in the active challenge (ValueError if
    no challenge is on or the nickname is not allowed or taken by a page's session)."""
    classroom = classroom_of(service)
    session = f"command-line:{' '.join(nickname.split()).casefold()}"
    requester = Requester(session, Role.COMMAND)
    classroom.set_nickname(requester, nickname)
    return requester


def run_class_command(service: TrainingService, arguments, run_to_json) -> int:
    """Run a class command; returns the exit status."""
    classroom = classroom_of(service)
    if arguments.command == "challenge":
        return _challenge(classroom, arguments)
    if arguments.command == "board":
        return _board(classroom, arguments)
    if arguments.command == "importance":
        return _importance(classroom, arguments)
    return _search(classroom, arguments, run_to_json)


def _challenge(classroom: Classroom, arguments) -> int:
    if arguments.action == "start":
        challenge = classroom.start_challenge(
            arguments.title,
            COMMAND_LINE,
            max_params=arguments.max_params,
            max_epochs=arguments.max_epochs,
            max_seconds=arguments.max_seconds,
        )
        print(f"Started: {_challenge_text(challenge)}")
        return 0
    if arguments.action == "end":
        ended = classroom.end_challenge(COMMAND_LINE)
        print("No challenge was on." if ended is None else f"Ended: {_challenge_text(ended)}")
        return 0
    challenge = classroom.challenge()
    if arguments.json:
        print(json.dumps({"challenge": None if challenge is None else challenge.to_json()}))
    else:
        print("No challenge is on." if challenge is None else _challenge_text(challenge))
    return 0


def _challenge_text(challenge: Challenge) -> str:
    limits = [
        f"at most {challenge.max_params:,} parameters" if challenge.max_params else None,
        f"at most {challenge.max_epochs} epochs" if challenge.max_epochs else None,
        f"at most {challenge.max_seconds:g} s of training" if challenge.max_seconds else None,
    ]
    shown = "; ".join(limit for limit in limits if limit) or "no limits"
    return f"{challenge.title} ({shown})"


def _board(classroom: Classroom, arguments) -> int:
    if arguments.reveal:
        classroom.reveal(COMMAND_LINE)
    view = classroom.board(reveal=arguments.reveal)
    if arguments.json:
        print(json.dumps(view.to_json(), indent=2))
        return 0
    if view.challenge is None:
        print("No challenge yet. Start one with: python -m explorer challenge start TITLE")
        return 0
    print(_challenge_text(view.challenge))
    if not view.board.entries:
        print("Nobody is on the board yet.")
    for entry in view.board.entries:
        line = f"{entry.rank:>3}. {entry.nickname:<24} {entry.public_accuracy:.4f} public"
        if arguments.reveal:
            line += (
                f"  {entry.private_accuracy:.4f} private, rank {entry.private_rank} "
                f"({entry.rank_change:+d})"
            )
        print(f"{line}  {entry.parameters:,} parameters  {entry.run_id}")
    if arguments.reveal and view.board.entries:
        print(view.board.why_ranks_move)
    return 0


def _importance(classroom: Classroom, arguments) -> int:
    result = classroom.importance(arguments.data)
    if not result.can_tell:
        print(f"error: {result.reason}", file=sys.stderr)
        return 1
    if arguments.json:
        payload = result.to_json()
        payload.pop("reason")
        print(json.dumps(payload, indent=2))
        return 0
    print(result.help_text())
    for item in result.importances:
        verdict = "" if item.above_noise else "  (no more than noise)"
        print(f"  {item.setting:<15} {item.share:6.1%}{verdict}")
    print(f"  {'seed (noise)':<15} {result.seed_share:6.1%}")
    return 0


def _search(classroom: Classroom, arguments, run_to_json) -> int:
    challenge = classroom.challenge()

    def limit(name: str):
        given = getattr(arguments, name)
        return given if given is not None or challenge is None else getattr(challenge, name)

    spec = SearchSpec(
        seed=arguments.seed,
        max_params=limit("max_params"),
        max_epochs=limit("max_epochs"),
        max_seconds=limit("max_seconds"),
        train_fraction=arguments.train_fraction,
        learn_from_class=arguments.learn_from_class,
    )
    if arguments.trials < 1:
        raise ValueError(f"--trials must be a whole number of at least 1; got {arguments.trials}.")
    search = MachineSearch(classroom, spec)
    service = classroom.service

    def report(trial) -> None:
        record = service.get(trial.run_id)
        accuracy = record.summary.get("test_accuracy")
        figure = "" if accuracy is None else f": test accuracy {accuracy:.4f}"
        print(
            f"[{trial.number + 1}/{arguments.trials}] {record.config.label()}{figure}",
            file=sys.stderr,
        )

    run_ids = search.run(arguments.trials, parallel=service.slots, on_trial=report)
    records = [service.get(run_id) for run_id in run_ids]
    scores = classroom.half_scores(records)
    trials = []
    for record in records:
        payload = run_to_json(record, data=service.data)
        score = scores.get(record.run_id)
        payload["public_accuracy"] = None if score is None else score.public_accuracy
        trials.append(payload)
    scored = [trial for trial in trials if trial["public_accuracy"] is not None]
    best = max(scored, key=lambda trial: trial["public_accuracy"], default=None)
    if arguments.json:
        print(json.dumps({"trials": trials, "best": best}, indent=2))
    elif best is not None:
        print(f"best: {best['label']}: public-half accuracy {best['public_accuracy']:.4f}")
    return 0 if all(record.status == Status.COMPLETE for record in records) else 1
