"""Is a difference real or noise? Statistics over runs repeated with different seeds.

    summarise([0.978, 0.975, 0.980])           # Summary(n=3, mean=0.9777, std=0.0025)
    format_summary(summary, percent=True)      # "97.8 % ± 0.3 (n = 3)"
    welch(a, b)                                # Welch's t-test: difference, its spread, t, df, p
    verdict(a, b)                              # one sentence a student can follow
    format_p(0.0213)                           # "p = 0.021"
    seed_groups(records)                       # runs grouped by config without the seed

Computed here, in NumPy, once: never as a bootstrap in the browser, which changes on every render
and means nothing with three seeds. `std` is the sample standard deviation (n − 1).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

# The difference counts as "bigger than the seed-to-seed spread" below this p-value.
SIGNIFICANCE = 0.05
TEST_EXPLANATION = (
    "Welch's t-test on the test accuracies of the seeds: it asks whether the difference of the "
    "means is large next to how much each configuration varies from seed to seed, without "
    "assuming both vary equally. Its p-value (shown as the chance it is luck) is how often "
    "seeds alone would give a difference at least this large if the two configurations were "
    "equally good. Below p = 0.05 (5 %) the difference is called bigger than the seed-to-seed "
    "spread; otherwise it is within the noise and could be luck. The spread is the standard "
    "deviation (SD) over the seeds. A side with a "
    "single run shows no spread to compare with, so then nothing can be said: repeat it with "
    "more seeds."
)


@dataclass(frozen=True)
class Summary:
    n: int
    mean: float
    std: float  # sample standard deviation; NaN for a single value


def finite_values(values: Iterable[float | None]) -> np.ndarray:
    """The values that are numbers: None, NaN and infinities (a pending or diverged run) dropped.

    finite_values([0.97, None, float("nan"), 0.98])   # array([0.97, 0.98])
    """
    kept = [v for v in values if v is not None and math.isfinite(v)]
    return np.asarray(kept, dtype=float)


def summarise(values: Iterable[float | None]) -> Summary:
    """Count, mean and sample standard deviation (n − 1) of the finite values.

    summarise([0.978, 0.975, 0.980])   # Summary(n=3, mean=0.97767, std=0.00252)
    summarise([0.97])                  # Summary(n=1, mean=0.97, std=nan): no spread
    summarise([None])                  # Summary(n=0, mean=nan, std=nan)
    """
    array = finite_values(values)
    if not len(array):
        return Summary(0, math.nan, math.nan)
    mean, variance = _mean_and_variance(array)
    return Summary(len(array), mean, math.sqrt(variance) if len(array) > 1 else math.nan)


def format_summary(
    summary: Summary, percent: bool = True, digits: int | None = None, unit: str = ""
) -> str:
    """E.g. "97.8 % ± 0.2 (n = 3)", or "97.8 % (n = 1)" without a spread; "—" with no value.

    format_summary(summarise([0.978, 0.975, 0.980]))          # "97.8 % ± 0.3 (n = 3)"
    format_summary(summarise([12.0, 14.0]), False, 1, " s")   # "13.0 s ± 1.4 (n = 2)"
    """
    if not summary.n:
        return "—"
    scale, unit, digits = (
        (100.0, " %", 1 if digits is None else digits)
        if percent
        else (1.0, unit, 4 if digits is None else digits)
    )
    text = f"{summary.mean * scale:.{digits}f}{unit}"
    if summary.n > 1:
        text += f" ± {summary.std * scale:.{digits}f}"
    return f"{text} (n = {summary.n})"


@dataclass(frozen=True)
class WelchResult:
    difference: float  # mean of b − mean of a
    standard_error: float  # √(SD_a²/n_a + SD_b²/n_b): the spread of that difference
    t: float  # difference / standard_error
    degrees_of_freedom: float
    p: float  # two-sided


def welch(a: Iterable[float | None], b: Iterable[float | None]) -> WelchResult | None:
    """Welch's two-sample t-test of b against a; None if either side has fewer than 2 values.

    Missing values (None, NaN) are left out, as in `summarise`. A side whose values are all
    equal has no spread at all: then any difference counts as real (t = ±inf, p = 0) and no
    difference as none (t = 0, p = 1).

        welch([0, 2], [3, 5])   # difference 3, t = 3/√2 = 2.121, 2 degrees of freedom, p = 0.168
    """
    first, second = finite_values(a), finite_values(b)
    if len(first) < 2 or len(second) < 2:
        return None
    mean_a, variance_a = _mean_and_variance(first)
    mean_b, variance_b = _mean_and_variance(second)
    share_a, share_b = variance_a / len(first), variance_b / len(second)
    difference = mean_b - mean_a
    spread = share_a + share_b
    if spread == 0:  # no noise at all: any difference is real, none is none
        t = math.copysign(math.inf, difference) if difference else 0.0
        return WelchResult(difference, 0.0, t, math.inf, 0.0 if difference else 1.0)
    t = difference / math.sqrt(spread)
    freedom = spread**2 / (share_a**2 / (len(first) - 1) + share_b**2 / (len(second) - 1))
    return WelchResult(difference, math.sqrt(spread), t, freedom, _two_sided_p(t, freedom))


def format_p(p: float) -> str:
    """A p-value as a student reads it, in plain words with the term after it: "chance it is
    luck: 2.1 % (p = 0.021)", "chance it is luck: under 0.1 % (p < 0.001)"; one more decimal
    where fewer would read as exactly the 5 % threshold ("4.96 % (p = 0.0496)")."""
    if p < 0.001:
        return "chance it is luck: under 0.1 % (p < 0.001)"
    near_threshold = round(p, 3) == SIGNIFICANCE
    digits = 4 if near_threshold else 3
    share = f"{p * 100:.{2 if near_threshold else 1 if p < 0.1 else 0}f}"
    return f"chance it is luck: {share} % (p = {p:.{digits}f})"


def verdict(a: Iterable[float | None], b: Iterable[float | None]) -> str:
    """One sentence on whether b's accuracy differs from a's (the baseline's) more than the
    seeds do. Accuracies are shares (0.978); the sentence speaks in percentage points.

        verdict([0.970, 0.972, 0.974], [0.980, 0.982, 0.984])
        # "Better by 1.00 percentage points: bigger than the seed-to-seed spread (n = 3 each,
        #  p = 0.004)."
    """
    first, second = finite_values(a), finite_values(b)
    result = welch(first, second)
    if result is None:
        return _cannot_tell(len(first), len(second))
    n = (
        f"n = {len(first)} each"
        if len(first) == len(second)
        else (f"n = {len(first)} and {len(second)}")
    )
    points = abs(result.difference) * 100
    if result.difference == 0:
        return f"No difference: both have the same mean accuracy ({n})."
    if result.p < SIGNIFICANCE:
        direction = "better" if result.difference > 0 else "worse"
        return (
            f"{direction.capitalize()} by {points:.2f} percentage points: bigger than the "
            f"seed-to-seed spread ({n}, {format_p(result.p)})."
        )
    sign = "+" if result.difference > 0 else "−"
    return (
        f"Within the noise ({n}, {format_p(result.p)}): a difference of {sign}{points:.2f} "
        "percentage points could be luck."
    )


def _cannot_tell(count_a: int, count_b: int) -> str:
    """The verdict when a side has fewer than two finished runs."""
    if count_a < 2 and count_b < 2:
        return (
            "Can't tell: with at most one finished run on each side there is no seed-to-seed "
            "spread to compare with. Repeat both with more seeds."
        )
    side, count = (
        ("the baseline", count_a) if count_a < 2 else ("the compared configuration", count_b)
    )
    has = "no finished run yet" if count == 0 else "only one finished run"
    return (
        f"Can't tell: {side} has {has}, so there is no seed-to-seed spread to compare with. "
        "Repeat it with more seeds."
    )


def _mean_and_variance(array: np.ndarray) -> tuple[float, float]:
    """Mean and sample variance (n − 1; 0 for one value). Equal values give exactly their value
    and 0: [0.97] * 3 would otherwise have a mean a rounding error off and a tiny variance, and
    two such sides a "difference" with a t of about 1."""
    if array.min() == array.max():
        return float(array[0]), 0.0
    return float(array.mean()), float(array.var(ddof=1))


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
        # Only complete runs count: a stopped run's accuracy is of fewer epochs than its config.
        complete = record.is_complete
        group["values"].append(record.summary.get("test_accuracy") if complete else None)
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
