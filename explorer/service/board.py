"""The challenge board: each nickname's best run, ranked on the public half of the test set.

    candidates = [Candidate("Ada", run_id, public, private, parameters), ...]  # one per request
    board = rank_board(candidates, revealed=False)
    board.entries[0].rank, .nickname, .public_accuracy   # private figures are None until Reveal
    board.to_json()                                       # what `python -m explorer board` prints

Each nickname keeps the run it scored best with on the public half (ties: the smaller network,
then the earlier request). Entries are ranked on that score. After Reveal the same runs are also
ranked on the private half, and `rank_change` says how far each entry moved (positive: up).
Unrevealed boards never carry a private figure, so nothing can leak one to a student.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

# The sentence the board shows next to the revealed ranks, with the public half's size.
WHY_RANKS_MOVE = (
    "Ranks move because the board was scored on the public half of the test digits: picking the "
    "run that did best on those {digits:,} digits also picks up their luck, and the private half, "
    "which nobody could look at, shows how each run does on digits it was not chosen for."
)


def why_ranks_move(public_digits: int) -> str:
    """The board's sentence for a public half of `public_digits` digits (5,000 on full MNIST,
    500 on the bundled sample)."""
    return WHY_RANKS_MOVE.format(digits=public_digits)


@dataclass(frozen=True)
class Candidate:
    """One run a nickname asked for during the challenge, within its limits, with its scores."""

    nickname: str
    run_id: str
    public_accuracy: float
    private_accuracy: float
    parameters: int
    label: str = ""
    order: int = 0  # when it was asked for: earlier wins a tie


@dataclass(frozen=True)
class BoardEntry:
    """One line of the board. Private figures are None until the teacher reveals them."""

    rank: int
    nickname: str
    run_id: str
    public_accuracy: float
    parameters: int
    label: str
    private_accuracy: float | None = None
    private_rank: int | None = None
    rank_change: int | None = None  # public rank minus private rank: positive moved up

    def to_json(self, revealed: bool) -> dict:
        payload = {
            "rank": self.rank,
            "nickname": self.nickname,
            "run_id": self.run_id,
            "public_accuracy": self.public_accuracy,
            "parameters": self.parameters,
            "label": self.label,
        }
        if revealed:
            payload.update(
                private_accuracy=self.private_accuracy,
                private_rank=self.private_rank,
                rank_change=self.rank_change,
            )
        return payload


@dataclass(frozen=True)
class Board:
    """The ranked entries of a challenge, and whether the private half is shown."""

    entries: list[BoardEntry] = field(default_factory=list)
    revealed: bool = False
    public_digits: int = 0  # how many test digits the public half holds

    @property
    def why_ranks_move(self) -> str | None:
        """The sentence to show beside revealed ranks (None before Reveal)."""
        return why_ranks_move(self.public_digits) if self.revealed else None

    def to_json(self) -> list[dict]:
        return [entry.to_json(self.revealed) for entry in self.entries]


def rank_board(
    candidates: list[Candidate], revealed: bool = False, public_digits: int = 0
) -> Board:
    """Each nickname's best candidate, ranked by public accuracy (see the module docstring);
    `public_digits`, the public half's size, goes into the sentence beside revealed ranks."""
    best: dict[str, Candidate] = {}
    for candidate in candidates:
        held = best.get(candidate.nickname)
        if held is None or _public_key(candidate) < _public_key(held):
            best[candidate.nickname] = candidate
    chosen = sorted(best.values(), key=_public_key)
    private_ranks = {}
    if revealed:
        by_private = sorted(chosen, key=_private_key)
        private_ranks = {candidate.nickname: rank for rank, candidate in enumerate(by_private, 1)}
    entries = []
    for rank, candidate in enumerate(chosen, 1):
        entry = BoardEntry(
            rank=rank,
            nickname=candidate.nickname,
            run_id=candidate.run_id,
            public_accuracy=candidate.public_accuracy,
            parameters=candidate.parameters,
            label=candidate.label,
        )
        if revealed:
            private_rank = private_ranks[candidate.nickname]
            entry = dataclasses.replace(
                entry,
                private_accuracy=candidate.private_accuracy,
                private_rank=private_rank,
                rank_change=rank - private_rank,
            )
        entries.append(entry)
    return Board(entries=entries, revealed=revealed, public_digits=public_digits)


def _public_key(candidate: Candidate) -> tuple:
    return (-candidate.public_accuracy, candidate.parameters, candidate.order, candidate.nickname)


def _private_key(candidate: Candidate) -> tuple:
    return (-candidate.private_accuracy, candidate.parameters, candidate.order, candidate.nickname)
