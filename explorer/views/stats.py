"""Is a difference real or noise? Statistics over runs repeated with different seeds.

    summarise([0.978, 0.975, 0.980])           # Summary(n=3, mean=0.9777, std=0.0025)
    format_summary(summary, percent=True)      # "97.8 % ± 0.3 (n = 3)"
    welch(a, b)                                # Welch's t-test: t, degrees of freedom, p
    verdict(a, b)                              # one sentence a student can follow
    seed_groups(records)                       # runs grouped by config without the seed

Computed here, in NumPy, once: never as a bootstrap in the browser, which changes on every render
and means nothing with three seeds. `std` is the sample standard deviation (n − 1).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

# The difference counts as "bigger than the seed-to-seed spread" below this p-value.
SIGNIFICANCE = 0.05
TEST_EXPLANATION = (
    "Welch's t-test on the test accuracies of the seeds: it asks whether the difference of the "
    "means is large next to how much each configuration varies from seed to seed, without "
    "assuming both vary equally. Below p = 0.05 the difference is called bigger than the "
    "seed-to-seed spread; otherwise it is within the noise. With one run per side there is no "
    "spread to compare with, so nothing can be said."
)


@dataclass(frozen=True)
class Summary:
    n: int
    mean: float
    std: float  # sample standard deviation; NaN for a single value


def summarise(values: Iterable[float]) -> Summary:
    array = np.asarray([v for v in values if v is not None and math.isfinite(v)], dtype=float)
    if not len(array):
        return Summary(0, math.nan, math.nan)
    std = float(array.std(ddof=1)) if len(array) > 1 else math.nan
    return Summary(len(array), float(array.mean()), std)


def format_summary(summary: Summary, percent: bool = True) -> str:
    """E.g. "97.8 % ± 0.2 (n = 3)", or "97.8 % (n = 1)" without a spread."""
    if not summary.n:
        return "—"
    scale, unit, digits = (100.0, " %", 1) if percent else (1.0, "", 4)
    text = f"{summary.mean * scale:.{digits}f}{unit}"
    if summary.n > 1:
        text += f" ± {summary.std * scale:.{digits}f}"
    return f"{text} (n = {summary.n})"


@dataclass(frozen=True)
class WelchResult:
    difference: float  # mean of b − mean of a
    t: float
    degrees_of_freedom: float
    p: float  # two-sided


def welch(a: Sequence[float], b: Sequence[float]) -> WelchResult | None:
    """Welch's two-sample t-test of b against a; None if either side has fewer than 2 values."""
    first, second = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if len(first) < 2 or len(second) < 2:
        return None
    variance_a, variance_b = first.var(ddof=1) / len(first), second.var(ddof=1) / len(second)
    difference = float(second.mean() - first.mean())
    spread = variance_a + variance_b
    if spread == 0:  # no noise at all: any difference is real, none is none
        return WelchResult(difference, math.copysign(math.inf, difference), math.inf,
                           0.0 if difference else 1.0)  # fmt: skip
    t = difference / math.sqrt(spread)
    freedom = spread**2 / (variance_a**2 / (len(first) - 1) + variance_b**2 / (len(second) - 1))
    return WelchResult(difference, t, freedom, _two_sided_p(t, freedom))


def verdict(a: Sequence[float], b: Sequence[float]) -> str:
    """One sentence on whether b's accuracy differs from a's more than the seeds do."""
    result = welch(a, b)
    if result is None:
        return (
            "Can't tell: with one run per side there is no seed-to-seed spread to compare with. "
            "Repeat both with more seeds."
        )
    n = f"n = {len(a)}" if len(a) == len(b) else f"n = {len(a)} and {len(b)}"
    if result.p < SIGNIFICANCE:
        direction = "better" if result.difference > 0 else "worse"
        return (
            f"{direction.capitalize()} by {abs(result.difference) * 100:.2f} points: bigger than "
            f"the seed-to-seed spread ({n}, p = {result.p:.3f})."
        )
    return (
        f"A difference of {result.difference * 100:+.2f} points is within the noise "
        f"({n}, p = {result.p:.2f})."
    )


def _two_sided_p(t: float, freedom: float) -> float:
    """P(|T| > |t|) for Student's t with `freedom` degrees of freedom (t may be infinite)."""
    if math.isinf(t):
        return 0.0
    x = freedom / (freedom + t * t)
    return _regularized_beta(x, freedom / 2, 0.5)


def _regularized_beta(x: float, a: float, b: float) -> float:
    """I_x(a, b) by its continued fraction (Numerical Recipes' betacf), to 1e-12."""
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    front = math.exp(
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    if x > (a + 1) / (a + b + 2):  # the fraction converges fast only on this side
        return 1.0 - _regularized_beta(1.0 - x, b, a)
    tiny = 1e-300
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    result = d
    for m in range(1, 300):
        for numerator in (
            m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1)),
        ):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + numerator / c
            c = c if abs(c) > tiny else tiny
            result *= c * d
        if abs(c * d - 1.0) < 1e-12:
            break
    return front * result / a


def seed_groups(records) -> list[dict]:
    """Runs grouped by their config without the seed, with the test accuracy's mean and sample
    SD: what `sweep --seeds --json` prints as "groups"."""
    groups: dict[str, dict] = {}
    for record in records:
        if record is None or record.config is None:
            continue
        settings = record.config.to_dict()
        seed = settings.pop("seed")
        key = repr(sorted(settings.items()))
        group = groups.setdefault(key, {"config": settings, "seeds": [], "runs": [], "values": []})
        group["seeds"].append(seed)
        group["runs"].append(record.run_id)
        group["values"].append(record.summary.get("test_accuracy"))
    output = []
    for group in groups.values():
        summary = summarise(group.pop("values"))
        output.append(
            {
                "config": group["config"],
                "n": summary.n,
                "seeds": group["seeds"],
                "mean": summary.mean if summary.n else None,
                "std": summary.std if summary.n > 1 else None,
                "runs": group["runs"],
            }
        )
    return output
