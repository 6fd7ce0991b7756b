"""The class as a whole: a challenge with limits, nicknames, the board, and what mattered.

    classroom = classroom_of(service)           # one per service; shares its run store
    classroom.start_challenge("Small and sharp", teacher, max_params=50_000, max_epochs=5)
    classroom.challenge()                        # the active challenge (a banner), or None
    classroom.limit_problems(config)             # before Train: ["1 limit it breaks", ...]
    classroom.set_nickname(student, "Ada")       # ValueError a student can read if not allowed
    classroom.nickname_of(student)               # "Ada"; session_nicknames(): everyone's
    service.submit(config, student)              # recorded for "Ada" while the challenge is on
    view = classroom.board()                     # BoardView: the challenge and ranked entries
    classroom.reveal(teacher); classroom.board(reveal=True)   # private half, ranks that moved
    classroom.importance("mnist")                # ImportanceResult over full MNIST's runs
    classroom.half_scores(records)               # run_id -> HalfScores (public, private) or None
    classroom.best_so_far()                      # DataFrame: class and machine, best public score
    classroom.end_challenge(teacher)

Every session of a server shares one Classroom, and the board and the importances are cached
under the store's change stamp (`ClassroomStore.stamp`, one small query): thirty sessions that
rerun read the store once per change, not once per rerun each.

Who is on the board: every request made during the challenge by a session with a nickname
counts, a cached result too (the board is about who asked, not who trained it first). A run
counts when it is complete and within the limits: parameters and epochs as set, and its measured
training time within TIME_ALLOWANCE times the time limit (a loaded server trains slower than its
estimate said). Nicknames are plain text; the page shows them with st.text or in a dataframe,
never as Markdown.
"""

from __future__ import annotations

import functools
import threading
import traceback
import unicodedata
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING

from explorer.architecture import total_parameters
from explorer.config import TrainingConfig
from explorer.data.npz import read_npz
from explorer.data.sources import SAMPLE_PATH
from explorer.halves import HalfScores, test_halves
from explorer.service.board import Board, Candidate, rank_board
from explorer.service.jobs import LimitError, Requester, Submission
from explorer.service.queue import MACHINE_SESSION
from explorer.service.service import TrainingService
from explorer.store.challenges import Challenge, ClassroomStore
from explorer.store.records import RunRecord, Status, StoreError

if TYPE_CHECKING:
    import pandas as pd

    from explorer.service.importance import ImportanceResult

NICKNAME_MAX_LENGTH = 24
TITLE_MAX_LENGTH = 80
# A nickname may hold letters, digits, spaces and these: nothing that Markdown or HTML reads.
NICKNAME_PUNCTUATION = "-.'"
MACHINE_NICKNAME = "machine"
# A run on the board may have taken this many times the time limit (measured, not estimated).
TIME_ALLOWANCE = 1.25
# The data sets runs are grouped by: never mixed in one board line, score or importance.
DATA_SETS = ("mnist", "sample")


def data_set_of(record: RunRecord) -> str:
    """ "sample" for a run on the bundled sample, "mnist" for one on full MNIST."""
    return "sample" if record.data_source == "sample" else "mnist"


def validate_nickname(text: str) -> str:
    """The nickname as it will be shown, or a ValueError that says what is allowed."""
    nickname = " ".join(str(text).split())
    if not nickname:
        raise ValueError("Pick a nickname: at least one letter or digit.")
    if len(nickname) > NICKNAME_MAX_LENGTH:
        raise ValueError(
            f"A nickname has at most {NICKNAME_MAX_LENGTH} characters; {nickname!r} has "
            f"{len(nickname)}."
        )
    refused = sorted(
        {
            character
            for character in nickname
            if not (
                unicodedata.category(character)[0] in "LN"
                or character == " "
                or character in NICKNAME_PUNCTUATION
            )
        }
    )
    if refused:
        raise ValueError(
            f"A nickname may hold letters, digits, spaces and {' '.join(NICKNAME_PUNCTUATION)} "
            f"only; {nickname!r} has {' '.join(refused)}."
        )
    if nickname.casefold() == MACHINE_NICKNAME:
        raise ValueError(f"{nickname!r} is the search's name on the board; pick another one.")
    return nickname


def _validate_title(text: str) -> str:
    title = " ".join(str(text).split())
    if not title or len(title) > TITLE_MAX_LENGTH:
        raise ValueError(
            f"A challenge's title has 1 to {TITLE_MAX_LENGTH} characters; got {len(title)}."
        )
    return title


def _positive(name: str, value, kind=int):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValueError(f"{name} must be a number above 0, or none; got {value!r}.")
    if kind is int and value != int(value):
        raise ValueError(f"{name} must be a whole number; got {value!r}.")
    return kind(value)


@dataclass(frozen=True)
class BoardView:
    """What the board shows: the challenge (None if there never was one) and its ranking."""

    challenge: Challenge | None
    board: Board

    def to_json(self) -> dict:
        return {
            "challenge": None if self.challenge is None else self.challenge.to_json(),
            "entries": self.board.to_json(),
            **({"why_ranks_move": self.board.why_ranks_move} if self.board.revealed else {}),
        }

    def frame(self) -> pd.DataFrame:
        import pandas as pd  # pandas loads with the class view, not with the first paint

        """The entries as a table for the page (private columns only after Reveal)."""
        return pd.DataFrame(self.board.to_json())


class Classroom:
    """Challenge, nicknames, board, half scores and importances over one service's store.

    Get it with `classroom_of(service)`, not by making one per session.
    """

    def __init__(self, service: TrainingService) -> None:
        self.service = service
        self.store = ClassroomStore(service.store.path)
        self._cache: dict[tuple, object] = {}
        self._cache_lock = threading.Lock()
        self._computing: dict[tuple, threading.Lock] = {}  # one per key: who computes it now
        # The machine's search this server started (explorer.service.search.start_search).
        self.machine_search = None
        service.submit_hooks.append(self._on_submit)

    # -- the challenge -------------------------------------------------------------------------

    def challenge(self) -> Challenge | None:
        """The active challenge, or None."""
        return self.store.active_challenge()

    def start_challenge(
        self,
        title: str,
        requester: Requester,
        *,
        max_params: int | None = None,
        max_epochs: int | None = None,
        max_seconds: float | None = None,
    ) -> Challenge:
        """Start a challenge (the teacher's right; one at a time: end the other first)."""
        _teacher_only(requester, "start a challenge")
        return self.store.start_challenge(
            _validate_title(title),
            max_params=_positive("max_params", max_params),
            max_epochs=_positive("max_epochs", max_epochs),
            max_seconds=_positive("max_seconds", max_seconds, float),
        )

    def end_challenge(self, requester: Requester) -> Challenge | None:
        """End the active challenge (its board stays); None if none was on."""
        _teacher_only(requester, "end a challenge")
        return self.store.end_challenge()

    def reveal(self, requester: Requester, challenge: Challenge | None = None) -> None:
        """Show the private half's scores on the board (the teacher's Reveal)."""
        _teacher_only(requester, "reveal the private scores")
        challenge = challenge or self.store.latest_challenge()
        if challenge is None:
            raise StoreError("There is no challenge to reveal; start one first.")
        self.store.reveal(challenge.challenge_id)

    def limit_problems(
        self, config: TrainingConfig, challenge: Challenge | None = None
    ) -> list[str]:
        """Each limit of the challenge (default: the active one) that `config` breaks, as a
        sentence with what to change; empty if it fits (or no challenge is on)."""
        challenge = challenge or self.challenge()
        if challenge is None:
            return []
        problems = []
        parameters = total_parameters(config)
        if challenge.max_params is not None and parameters > challenge.max_params:
            problems.append(
                f"The network has {parameters:,} parameters; the challenge allows at most "
                f"{challenge.max_params:,}. Use fewer neurons."
            )
        if challenge.max_epochs is not None and config.epochs > challenge.max_epochs:
            problems.append(
                f"{config.epochs} epochs; the challenge allows at most {challenge.max_epochs}."
            )
        if challenge.max_seconds is not None:
            estimate = self.training_seconds(config)
            if estimate > challenge.max_seconds:
                problems.append(
                    f"Training would take about {estimate:.0f} s; the challenge allows at most "
                    f"{challenge.max_seconds:.0f} s. Try fewer epochs, a bigger batch or less data."
                )
        return problems

    def training_seconds(self, config: TrainingConfig) -> float:
        """The estimated training time the time limit is about: without a trainer's start,
        which depends on the server's state, not on the configuration."""
        return self.service.estimate(config) - self.service.start_seconds()

    def within_limits(self, record: RunRecord, challenge: Challenge) -> bool:
        """Whether a stored run counts on the challenge's board (see the module docstring)."""
        config = record.config
        if config is None:
            return False
        if challenge.max_params is not None and total_parameters(config) > challenge.max_params:
            return False
        if challenge.max_epochs is not None and config.epochs > challenge.max_epochs:
            return False
        seconds = record.summary.get("train_seconds")
        return not (
            challenge.max_seconds is not None
            and (seconds is None or seconds > challenge.max_seconds * TIME_ALLOWANCE)
        )

    # -- nicknames -----------------------------------------------------------------------------

    def set_nickname(self, requester: Requester, nickname: str) -> str:
        """Give the session a nickname in the active challenge; returns it as it is shown.

        ValueError if it is not allowed (too long, markup, taken by another session) or no
        challenge is on.
        """
        challenge = self._active_or_error()
        nickname = validate_nickname(nickname)
        self.store.set_nickname(challenge.challenge_id, requester.session, nickname)
        return nickname

    def nickname_of(self, requester: Requester) -> str | None:
        """The session's nickname in the active challenge, or None."""
        return self.session_nicknames().get(requester.session)

    def session_nicknames(self) -> dict[str, str]:
        """session -> nickname of everyone in the active challenge (empty when none is on):
        where a page looks up its own session's nickname. Session ids are private: never shown."""
        challenge = self.challenge()
        if challenge is None:
            return {}
        held = self.store.nicknames(challenge.challenge_id)
        return {session: holder.nickname for session, holder in held.items()}

    def nicknames(self) -> list[tuple[str, bool]]:
        """(nickname, hidden) of everyone in the challenge (the active one, else the last), in
        alphabetical order: the teacher's list to hide from. No session ids."""
        challenge = self.store.latest_challenge()
        if challenge is None:
            return []
        held = self.store.nicknames(challenge.challenge_id).values()
        return sorted(
            ((holder.nickname, holder.hidden) for holder in held),
            key=lambda pair: pair[0].casefold(),
        )

    def hide_nickname(self, nickname: str, requester: Requester, hidden: bool = True) -> None:
        """Take a nickname off the board (or put it back): the teacher's right."""
        _teacher_only(requester, "hide a nickname")
        challenge = self.store.latest_challenge()
        if challenge is None or not self.store.set_hidden(challenge.challenge_id, nickname, hidden):
            raise ValueError(f"There is no nickname {nickname!r} in the challenge.")

    def _active_or_error(self) -> Challenge:
        challenge = self.challenge()
        if challenge is None:
            raise ValueError("No challenge is on: the teacher starts one first.")
        return challenge

    def _on_submit(
        self, config: TrainingConfig, requester: Requester, submission: Submission
    ) -> None:
        try:
            self._record(requester, submission)
        except StoreError:  # a full disk, say: the run still trains, only the board misses it
            traceback.print_exc()

    def _record(self, requester: Requester, submission: Submission) -> None:
        challenge = self.challenge()
        if challenge is None:
            return
        nicknames = self.store.nicknames(challenge.challenge_id)
        if requester.session == MACHINE_SESSION and MACHINE_SESSION not in nicknames:
            self.store.set_nickname(challenge.challenge_id, MACHINE_SESSION, MACHINE_NICKNAME)
        elif requester.session not in nicknames:
            return
        self.store.record_request(challenge.challenge_id, requester.session, submission.run_id)

    # -- scores --------------------------------------------------------------------------------

    def half_scores(self, records: list[RunRecord]) -> dict[str, HalfScores | None]:
        """Each run's accuracy on the public and private half, from its stored predictions.

        Scored once and kept in the store (runs stored before the halves existed too); None for
        a run without a result, or on data this server cannot read the labels of.
        """
        known = self.store.scores()
        new: dict[str, tuple[float, float]] = {}
        for record in records:
            if record.run_id in known or not record.has_result:
                continue
            labels = self._labels(record)
            if labels is None:
                continue
            try:
                predicted = self.service.store.load_predictions(record.run_id).predicted_labels
            except StoreError:
                continue
            if len(predicted) != len(labels):
                continue
            scores = test_halves(labels).score(predicted, labels)
            new[record.run_id] = (scores.public_accuracy, scores.private_accuracy)
        self.store.save_scores(new)
        known.update(new)
        return {
            record.run_id: HalfScores(*known[record.run_id]) if record.run_id in known else None
            for record in records
        }

    def _labels(self, record: RunRecord):
        if record.data_source == "sample":
            return _sample_labels()
        data = self.service.data
        if data.is_sample or len(data.y_test) != record.test_samples:
            return None
        return data.y_test

    # -- the board -----------------------------------------------------------------------------

    def board(self, reveal: bool | None = None, challenge: Challenge | None = None) -> BoardView:
        """The board of the challenge (default: the active one, else the last one).

        `reveal` None follows the teacher's Reveal; False never carries a private figure (a
        student's page before Reveal, the command line without --reveal).
        """
        challenge = challenge or self.store.latest_challenge()
        if challenge is None:
            return BoardView(None, Board())
        revealed = challenge.revealed if reveal is None else reveal
        return self._cached(("board", challenge.challenge_id, revealed), challenge, revealed)

    def stamp(self) -> tuple:
        """Changes whenever a run is added, finishes or is deleted, or the challenge, a
        nickname or a score changes: what a page's shared caches are keyed by."""
        return self.store.stamp()

    def _cached(self, key: tuple, *arguments):
        stamp = self.store.stamp()
        with self._cache_lock:
            hit = self._cache.get(key)
            if hit is not None and hit[0] == stamp:
                return hit[1]
            computing = self._computing.setdefault(key, threading.Lock())
        # After a change, one session computes the value and the others wait for it, rather
        # than a class of sessions each computing the board and what mattered again at once.
        with computing:
            stamp = self.store.stamp()
            with self._cache_lock:
                hit = self._cache.get(key)
                if hit is not None and hit[0] == stamp:
                    return hit[1]
            compute = {"board": self._board, "importance": self._importance}[key[0]]
            value = compute(*arguments)
            with self._cache_lock:
                self._cache[key] = (stamp, value)
        return value

    def _board(self, challenge: Challenge, revealed: bool) -> BoardView:
        challenge = self.store.challenge(challenge.challenge_id)  # its latest state
        nicknames = self.store.nicknames(challenge.challenge_id)
        requests = self.store.requests(challenge.challenge_id)
        records = {}
        for _, run_id in requests:
            if run_id not in records:
                records[run_id] = self.service.store.get(run_id)
        complete = [
            record
            for record in records.values()
            if record is not None and record.is_complete and self.within_limits(record, challenge)
        ]
        scores = self.half_scores(complete)
        candidates = []
        for order, (session, run_id) in enumerate(requests):
            holder = nicknames.get(session)
            score = scores.get(run_id)
            if holder is None or holder.hidden or score is None:
                continue
            record = records[run_id]
            candidates.append(
                Candidate(
                    nickname=holder.nickname,
                    run_id=run_id,
                    public_accuracy=score.public_accuracy,
                    private_accuracy=score.private_accuracy,
                    parameters=total_parameters(record.config),
                    label=record.config.label(),
                    order=order,
                )
            )
        public_digits = len(test_halves(self.service.data.y_test).public)
        return BoardView(challenge, rank_board(candidates, revealed, public_digits))

    def best_so_far(self, challenge: Challenge | None = None) -> pd.DataFrame:
        """The best public-half accuracy after each run, for the class and for the machine.

        Columns: series ("class" or "machine"), runs (1, 2, ...), best_public_accuracy. Runs
        are counted in the order they were first asked for during the challenge, every run the
        series asked for (those off the board too) counting as one used.
        """
        import pandas as pd  # pandas loads with the class view, not with the first paint

        columns = ["series", "runs", "best_public_accuracy"]
        challenge = challenge or self.store.latest_challenge()
        if challenge is None:
            return pd.DataFrame(columns=columns)
        ordered: dict[str, list[str]] = {"class": [], "machine": []}
        for session, run_id in self.store.requests(challenge.challenge_id):
            series = ordered["machine" if session == MACHINE_SESSION else "class"]
            if run_id not in series:
                series.append(run_id)
        records = {
            run_id: self.service.store.get(run_id) for ids in ordered.values() for run_id in ids
        }
        counted = [
            record
            for record in records.values()
            if record is not None and record.is_complete and self.within_limits(record, challenge)
        ]
        scores = self.half_scores(counted)
        rows = []
        for name, run_ids in ordered.items():
            best = None
            for number, run_id in enumerate(run_ids, 1):
                score = scores.get(run_id)
                if score is not None and (best is None or score.public_accuracy > best):
                    best = score.public_accuracy
                if best is not None:
                    rows.append((name, number, best))
        return pd.DataFrame(rows, columns=columns)

    # -- what mattered -------------------------------------------------------------------------

    def importance(self, data_set: str = "mnist") -> ImportanceResult:
        """What mattered over the stored complete runs on one data set ("mnist" or "sample")."""
        if data_set not in DATA_SETS:
            raise ValueError(f"data_set must be one of {', '.join(DATA_SETS)}; got {data_set!r}.")
        return self._cached(("importance", data_set), data_set)

    def _importance(self, data_set: str) -> ImportanceResult:
        # Optuna takes about a second to import: the class view pays it, not every first paint.
        from explorer.service.importance import setting_importance

        runs = [
            (record.config, record.summary.get("test_accuracy"))
            for record in self.service.store.list_runs((Status.COMPLETE,))
            if data_set_of(record) == data_set
        ]
        return setting_importance(runs)


_CLASSROOMS: weakref.WeakKeyDictionary[TrainingService, Classroom] = weakref.WeakKeyDictionary()
_CLASSROOMS_LOCK = threading.Lock()


def classroom_of(service: TrainingService) -> Classroom:
    """The one Classroom of `service` (made on first use): every session of a server shares it,
    and with it the board's cache; a second one would record each request twice."""
    with _CLASSROOMS_LOCK:
        classroom = _CLASSROOMS.get(service)
        if classroom is None:
            classroom = _CLASSROOMS[service] = Classroom(service)
        return classroom


@functools.cache
def _sample_labels():
    """The bundled sample's test labels (its runs are scored on them wherever they trained)."""
    return read_npz(SAMPLE_PATH)[3]


def _teacher_only(requester: Requester, action: str) -> None:
    if not requester.is_teacher:
        raise LimitError(f"Only the teacher can {action}.")
