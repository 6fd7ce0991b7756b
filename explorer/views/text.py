"""Numbers and names as a student reads them: durations, times ago, percentages, data sources."""

from __future__ import annotations

import time


def duration(seconds: float | None) -> str:
    """'0.4 s', '12 s', '3 min 05 s', '1 h 02 min'."""
    if seconds is None:
        return "…"
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes, rest = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {rest:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def ago(timestamp: float | None, now: float | None = None) -> str:
    """'just now', '5 min ago', '2 h ago', '3 days ago'."""
    if timestamp is None:
        return ""
    seconds = max(0.0, (now or time.time()) - timestamp)
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{seconds // 60:.0f} min ago"
    if seconds < 86400:
        return f"{seconds // 3600:.0f} h ago"
    return f"{seconds // 86400:.0f} days ago"


def percent(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}%}"


DATA_SOURCE_NAMES = {
    "sample": "bundled sample",
    "data-dir": "MNIST from a folder",
    "keras-cache": "MNIST from the Keras cache",
    "download": "downloaded MNIST",
}


def data_text(source: str, test_samples: int | None) -> str:
    """Which data a run was trained and tested on, e.g. "bundled sample (1,000 test digits)"."""
    name = DATA_SOURCE_NAMES.get(source, source)
    if test_samples == 10_000 and source != "sample":
        name = "full MNIST"
    return f"{name} ({test_samples:,} test digits)" if test_samples else name


def ended_message(status: str, error: str | None) -> str:
    """Why the last run of a configuration has no result, as one paragraph: "The last run of
    this configuration ended as failed: <its error>. Press Train to try again." The stored
    error may end with its own full stop (or other mark), which is not doubled, and may already
    say to train again, which is not said twice."""
    reason = (error or "no details").strip()
    if not reason.endswith((".", "!", "?")):
        reason += "."
    advice = "" if "train again" in reason.lower() else " Press Train to try again."
    return f"The last run of this configuration ended as {status}: {reason}{advice}"
