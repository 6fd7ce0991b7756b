"""explorer.views.stats against values worked out by hand and against published examples.

The Welch examples are the three of the Wikipedia article "Welch's t-test" (t to 2 decimals,
degrees of freedom to 1, p to 3), the R session printed in many tutorials
(`t.test(ts1, ts2)`: t = -1.8325, df = 17.9, p-value = 0.08356) and the Rosetta Code task
"Welch's t-test" (p = 0.010752). The p-values of the t distribution are checked against its
closed forms for 1 and 2 degrees of freedom and against a printed table of critical values.
"""

from __future__ import annotations

import math

import pytest

from explorer.config import TrainingConfig
from explorer.store.records import RunRecord
from explorer.views import stats


def numbers(text: str) -> list[float]:
    return [float(word) for word in text.split()]


WIKIPEDIA_EXAMPLES = [
    # (A1, A2, t of A1 − A2, degrees of freedom, p)
    (
        numbers("27.5 21.0 19.0 23.6 17.0 17.9 16.9 20.1 21.9 22.6 23.1 19.6 19.0 21.7 21.4"),
        numbers("27.1 22.0 20.8 23.4 23.4 23.5 25.8 22.0 24.8 20.2 21.9 22.1 22.9 20.5 24.4"),
        -2.46,
        25.0,
        0.021,
    ),
    (
        numbers("17.2 20.9 22.6 18.1 21.7 21.4 23.5 24.2 14.7 21.8"),
        numbers(
            "21.5 22.8 21.0 23.0 21.6 23.6 22.5 20.7 23.4 21.8 "
            "20.7 21.7 21.5 22.5 23.6 21.5 22.5 23.5 21.5 21.8"
        ),
        -1.57,
        9.9,
        0.149,
    ),
    (
        numbers("19.8 20.4 19.6 17.8 18.5 18.9 18.3 18.9 19.5 22.0"),
        numbers(
            "28.2 26.6 20.1 23.3 25.2 22.1 17.7 27.6 20.6 13.7 "
            "23.2 17.5 20.6 18.0 23.9 21.6 24.3 20.4 24.0 13.2"
        ),
        -2.22,
        24.5,
        0.036,
    ),
]


# -- summaries ---------------------------------------------------------------------------------


def test_summarise_uses_the_sample_standard_deviation() -> None:
    # Mean 5; squared deviations 9+1+1+1+0+0+4+16 = 32; 32 / (8 − 1), not 32 / 8 (SD 2).
    summary = stats.summarise([2, 4, 4, 4, 5, 5, 7, 9])
    assert summary.n == 8
    assert summary.mean == 5.0
    assert summary.std == pytest.approx(math.sqrt(32 / 7))


def test_summarise_three_seeds_by_hand() -> None:
    # Deviations from the mean 0.97766… in thousandths: 1/3, −8/3, 7/3; squares sum to 114/9.
    summary = stats.summarise([0.978, 0.975, 0.980])
    assert summary.mean == pytest.approx(2.933 / 3)
    assert summary.std == pytest.approx(math.sqrt(114 / 9 / 2) / 1000)
    assert stats.format_summary(summary) == "97.8 % ± 0.3 (n = 3)"


def test_summarise_leaves_out_pending_and_diverged_runs() -> None:
    summary = stats.summarise([0.96, None, math.nan, math.inf, 0.98])
    assert (summary.n, summary.mean) == (2, pytest.approx(0.97))


def test_one_value_has_no_spread_and_no_value_has_no_mean() -> None:
    one = stats.summarise([0.97])
    assert (one.n, one.mean) == (1, 0.97) and math.isnan(one.std)
    assert stats.format_summary(one) == "97.0 % (n = 1)"
    none = stats.summarise([None])
    assert none.n == 0 and math.isnan(none.mean)
    assert stats.format_summary(none) == "—"


def test_identical_values_have_exactly_no_spread() -> None:
    # [0.97] * 3 sums to a mean a rounding error off 0.97, with a variance of about 1e-32.
    summary = stats.summarise([0.97] * 3)
    assert summary == stats.Summary(3, 0.97, 0.0)


def test_format_summary_of_other_units() -> None:
    seconds = stats.summarise([12.0, 14.0])  # SD √2
    assert stats.format_summary(seconds, False, 1, " s") == "13.0 s ± 1.4 (n = 2)"
    assert stats.format_summary(stats.summarise([0.08, 0.1]), False) == "0.0900 ± 0.0141 (n = 2)"


# -- Welch's t-test ----------------------------------------------------------------------------


@pytest.mark.parametrize(("first", "second", "t", "freedom", "p"), WIKIPEDIA_EXAMPLES)
def test_welch_reproduces_the_wikipedia_examples(first, second, t, freedom, p) -> None:
    result = stats.welch(second, first)  # b − a: A1 − A2 as in the article
    assert round(result.t, 2) == t
    assert round(result.degrees_of_freedom, 1) == freedom
    assert round(result.p, 3) == p


def test_welch_reproduces_r() -> None:
    ts1 = [11, 9, 10, 11, 10, 12, 9, 11, 12, 9]
    ts2 = [11, 13, 10, 13, 12, 9, 11, 12, 12, 11]
    result = stats.welch(ts2, ts1)
    assert result.difference == pytest.approx(-1.0)
    assert round(result.t, 4) == -1.8325
    assert round(result.degrees_of_freedom, 1) == 17.9
    assert round(result.p, 5) == 0.08356


def test_welch_reproduces_rosetta_code() -> None:
    result = stats.welch([490.2, 340.0, 433.9], [3.0, 4.0, 1.0, 2.1])
    assert round(result.p, 6) == 0.010752


def test_welch_by_hand_with_two_degrees_of_freedom() -> None:
    # Means 1 and 4; s² = 2 a side, s²/n = 1, so SE = √2 and t = 3 / √2;
    # df = (1 + 1)² / (1²/1 + 1²/1) = 2.
    result = stats.welch([0, 2], [3, 5])
    assert result.difference == 3.0
    assert result.standard_error == pytest.approx(math.sqrt(2))
    assert result.t == pytest.approx(3 / math.sqrt(2))
    assert result.degrees_of_freedom == pytest.approx(2.0)
    # With 2 degrees of freedom P(|T| > t) = 1 − t / √(2 + t²) = 1 − 3 / √13.
    assert result.p == pytest.approx(1 - 3 / math.sqrt(13), abs=1e-12)


@pytest.mark.parametrize("t", [0.1, 0.5, 1.0, 2.0, 6.3, 40.0])
def test_p_matches_the_closed_forms_of_one_and_two_degrees_of_freedom(t) -> None:
    assert stats._two_sided_p(t, 1) == pytest.approx(1 - 2 / math.pi * math.atan(t), abs=1e-12)
    assert stats._two_sided_p(t, 2) == pytest.approx(1 - t / math.sqrt(2 + t * t), abs=1e-12)


@pytest.mark.parametrize(
    ("t", "freedom", "p"),
    # A printed table of Student's t: two-sided 5 % and 1 % critical values.
    [(12.706, 1, 0.05), (2.571, 5, 0.05), (2.228, 10, 0.05), (2.042, 30, 0.05), (4.604, 4, 0.01)],
)
def test_p_matches_a_t_table(t, freedom, p) -> None:
    assert round(stats._two_sided_p(t, freedom), 3) == p
    assert round(stats._two_sided_p(-t, freedom), 3) == p


def test_welch_needs_two_values_a_side_and_ignores_missing_ones() -> None:
    assert stats.welch([0.97], [0.96, 0.98]) is None
    assert stats.welch([0.97, None], [0.96, 0.98]) is None
    with_missing = stats.welch([0.96, None, 0.98, math.nan], [0.97, 0.99])
    assert with_missing == stats.welch([0.96, 0.98], [0.97, 0.99])


def test_welch_of_identical_values() -> None:
    # Equal sides of different sizes: their means differ by a rounding error unless handled.
    same = stats.welch([0.1] * 3, [0.1] * 4)
    assert (same.difference, same.t, same.p) == (0.0, 0.0, 1.0)
    apart = stats.welch([0.97] * 3, [0.98] * 3)
    assert apart.difference == pytest.approx(0.01)
    assert (apart.t, apart.p) == (math.inf, 0.0)
    one_side_constant = stats.welch([0.97] * 3, [0.96, 0.98, 0.97])
    assert one_side_constant.difference == pytest.approx(0.0, abs=1e-15)
    assert one_side_constant.p == pytest.approx(1.0)


# -- the sentence ------------------------------------------------------------------------------


def test_verdict_real_difference() -> None:
    # Means 0.972 and 0.982, s² = 4e-6 a side: t = 0.01 / √(8e-6 / 3) = √37.5, and
    # df = (8e-6/3)² / (2 · (4e-6/3)² / 2) = 4. With 4 degrees of freedom the t distribution
    # has a closed form: P(|T| > t) = 1 − u (3 − u²) / 2 with u = t / √(4 + t²).
    t = math.sqrt(37.5)
    u = t / math.sqrt(4 + t * t)
    p = 1 - u * (3 - u * u) / 2
    assert stats.welch([0.970, 0.972, 0.974], [0.980, 0.982, 0.984]).p == pytest.approx(p)
    assert round(p, 3) == 0.004
    assert stats.verdict([0.970, 0.972, 0.974], [0.980, 0.982, 0.984]) == (
        "Better by 1.00 percentage points: bigger than the seed-to-seed spread "
        "(n = 3 each, chance it is luck: 0.4 % (p = 0.004))."
    )
    assert stats.verdict([0.980, 0.982, 0.984], [0.970, 0.972, 0.974]).startswith(
        "Worse by 1.00 percentage points"
    )


def test_verdict_within_the_noise() -> None:
    sentence = stats.verdict([0.970, 0.975, 0.980], [0.972, 0.978, 0.981, None])
    assert sentence.startswith("Within the noise (n = 3 each, chance it is luck: ")
    assert sentence.endswith("a difference of +0.20 percentage points could be luck.")


def test_verdict_cannot_tell_with_one_run() -> None:
    both = stats.verdict([0.97], [0.98])
    assert both.startswith("Can't tell") and "Repeat both with more seeds." in both
    baseline = stats.verdict([0.97], [0.98, 0.97, 0.99])
    assert baseline.startswith("Can't tell: the baseline has only one finished run")
    pending = stats.verdict([0.97, 0.98], [None, None])
    assert pending.startswith("Can't tell: the compared configuration has no finished run yet")


def test_verdict_of_identical_values() -> None:
    assert stats.verdict([0.97] * 3, [0.97] * 3) == (
        "No difference: both have the same mean accuracy (n = 3 each)."
    )
    assert stats.verdict([0.97] * 3, [0.98] * 4) == (
        "Better by 1.00 percentage points: bigger than the seed-to-seed spread "
        "(n = 3 and 4, chance it is luck: under 0.1 % (p < 0.001))."
    )


@pytest.mark.parametrize(
    ("p", "text"),
    [
        (0.0213, "chance it is luck: 2.1 % (p = 0.021)"),
        (0.0004, "chance it is luck: under 0.1 % (p < 0.001)"),
        (0.0496, "chance it is luck: 4.96 % (p = 0.0496)"),
        (0.5, "chance it is luck: 50 % (p = 0.500)"),
    ],
)
def test_format_p(p, text) -> None:
    assert stats.format_p(p) == text


# -- groups of seeds ---------------------------------------------------------------------------


def record(config: TrainingConfig, status: str, accuracy: float | None) -> RunRecord:
    summary = {} if accuracy is None else {"test_accuracy": accuracy}
    run_id = f"{config.seed:016x}"
    return RunRecord(run_id, "key", config, "sample", status, 0.0, summary=summary)


def test_seed_groups_count_complete_runs_only() -> None:
    base, wide = TrainingConfig(hidden1=64), TrainingConfig(hidden1=128)
    records = [
        record(base.replace(seed=0), "complete", 0.96),
        record(base.replace(seed=1), "complete", 0.98),
        record(base.replace(seed=2), "stopped", 0.50),  # two epochs of five: not this config
        record(wide.replace(seed=0), "running", None),
    ]
    groups = stats.seed_groups(records)
    assert [group["config"]["hidden1"] for group in groups] == [64, 128]
    assert groups[0]["seeds"] == [0, 1, 2]
    assert groups[0]["n"] == 2 and groups[0]["mean"] == pytest.approx(0.97)
    assert groups[0]["std"] == pytest.approx(math.sqrt(2) / 100)
    assert (groups[1]["n"], groups[1]["mean"], groups[1]["std"]) == (0, None, None)
