"""What mattered: the share of the test accuracy's variation that each setting explains.

    result = setting_importance([(run.config, run.summary["test_accuracy"]) for run in runs])
    if result.can_tell:
        for item in result.importances:          # largest share first
            item.setting, item.share, item.above_noise
        result.seed_share                        # the noise level: what the seed alone explains
    else:
        result.reason                            # why not yet, and what would let it tell

Computed with Optuna's PED-ANOVA evaluator (`optuna.importance.PedAnovaImportanceEvaluator`, no
scikit-learn needed): the runs become trials of an in-memory study, one parameter per setting that
varies, and the evaluator says how differently each setting is distributed among the best runs
than among all of them; the shares are normalised to sum to 1. The evaluator uses no random
numbers, and the trials are added in a fixed order (by their settings), so the same runs give the
same numbers on every call and every computer. Pass runs of one data set only: the caller keeps
the bundled sample and full MNIST apart.

The seed is one of the settings. What it "explains" is luck, so its share is the noise level, and a
setting whose share is not above it is "no more than noise".
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import optuna

from explorer.config import FIELD_LABELS, TrainingConfig

# Fewer complete runs than this and the shares are mostly chance.
MIN_RUNS = 10
# The settings compared, the seed among them (it gives the noise level).
SETTINGS = (
    "hidden1",
    "hidden2",
    "batch_size",
    "epochs",
    "optimizer",
    "learning_rate",
    "activation",
    "train_fraction",
    "precision",
    "seed",
)
# A setting with more values than this is compared in this many groups of values.
BINS = 6
# The evaluator compares the best TARGET_QUANTILE of the runs with all of them; with few runs
# the best ones are at least MIN_TOP_RUNS (two runs that share every setting would make every
# setting look decisive).
TARGET_QUANTILE = 0.1
MIN_TOP_RUNS = 5


@dataclass(frozen=True)
class SettingImportance:
    """One setting's share of the accuracy's variation (0 to 1), and whether it beats the seed."""

    setting: str
    label: str
    share: float
    above_noise: bool

    def to_json(self) -> dict:
        return {"setting": self.setting, "share": self.share, "above_noise": self.above_noise}


@dataclass(frozen=True)
class ImportanceResult:
    """Importances over `runs` runs, or why they cannot be told yet (`reason`)."""

    runs: int
    importances: list[SettingImportance] = field(default_factory=list)
    seed_share: float | None = None
    reason: str | None = None
    method: str = (
        "Optuna's PED-ANOVA importance of each setting for the best test accuracies (the top "
        "10%, at least 5 runs), normalised to shares that sum to 1"
    )

    @property
    def can_tell(self) -> bool:
        return self.reason is None

    def help_text(self) -> str:
        """What was computed and over how many runs (the page's help text)."""
        if not self.can_tell:
            return self.reason or ""
        return (
            f"{self.method}, over {self.runs} complete runs. The seed's share "
            f"({self.seed_share:.0%}) is the noise level: a setting whose share is not above it "
            "is no more than noise."
        )

    def to_json(self) -> dict:
        return {
            "runs": self.runs,
            "seed_share": self.seed_share,
            "importances": [item.to_json() for item in self.importances],
            "reason": self.reason,
        }


def setting_importance(runs: list[tuple[TrainingConfig, float]]) -> ImportanceResult:
    """The importances of the settings over `runs` (config, test accuracy) pairs."""
    runs = [(config, accuracy) for config, accuracy in runs if _finite(accuracy)]
    count = len(runs)
    if count < MIN_RUNS:
        return ImportanceResult(
            runs=count,
            reason=(
                f"Cannot tell yet: {count} complete run{'s' if count != 1 else ''} on this data, "
                f"and at least {MIN_RUNS} are needed. Train more runs that differ in a setting, "
                "each over a few seeds."
            ),
        )
    values = {name: sorted({getattr(config, name) for config, _ in runs}) for name in SETTINGS}
    varying = [name for name in SETTINGS if len(values[name]) > 1 and name != "seed"]
    if len(varying) < 2 or len(values["seed"]) < 2:
        missing = []
        if len(varying) < 2:
            missing.append(f"at least two settings that vary (now: {', '.join(varying) or 'none'})")
        if len(values["seed"]) < 2:
            missing.append("runs over at least two seeds, whose spread is the noise level")
        return ImportanceResult(
            runs=count,
            reason=(
                f"Cannot tell yet over {count} runs: it needs {' and '.join(missing)}. A sweep "
                "of two settings with seeds 0,1,2 gives both."
            ),
        )
    names = [*varying, "seed"]
    levels = {name: _levels(name, values[name]) for name in names}
    distributions = {
        name: optuna.distributions.CategoricalDistribution(sorted(set(levels[name].values())))
        for name in names
    }
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # no "study created" line per call
    study = optuna.create_study(direction="maximize")
    ordered = sorted(runs, key=lambda run: (run[0].canonical_json(), run[1]))
    study.add_trials(
        [
            optuna.trial.create_trial(
                params={name: levels[name][getattr(config, name)] for name in names},
                distributions=distributions,
                value=float(accuracy),
            )
            for config, accuracy in ordered
        ]
    )
    quantile = min(0.5, max(TARGET_QUANTILE, MIN_TOP_RUNS / count))
    evaluator = optuna.importance.PedAnovaImportanceEvaluator(target_quantile=quantile)
    shares = optuna.importance.get_param_importances(study, evaluator=evaluator, normalize=True)
    seed_share = float(shares.get("seed", 0.0))
    importances = [
        SettingImportance(
            setting=name,
            label=FIELD_LABELS[name],
            share=float(shares.get(name, 0.0)),
            above_noise=float(shares.get(name, 0.0)) > seed_share,
        )
        for name in varying
    ]
    importances.sort(key=lambda item: (-item.share, SETTINGS.index(item.setting)))
    return ImportanceResult(runs=count, importances=importances, seed_share=seed_share)


def _finite(value) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)


def _levels(name: str, values: list) -> dict:
    """Setting value -> the category it is compared as.

    Every setting is compared as a category: a setting with a few values (as a sweep gives) keeps
    each value, and one with many (runs from the sliders) is cut into BINS groups of about equal
    size, in order of value. Treated as numbers, a setting with two values made the evaluator's
    density estimate find differences that the same runs did not have.
    """
    if len(values) <= BINS:
        return {value: str(value) for value in values}
    groups = [list(group) for group in _split(values, BINS)]
    return {value: f"{group[0]}-{group[-1]}" for group in groups for value in group}


def _split(values: list, parts: int):
    size = len(values) / parts
    for part in range(parts):
        yield values[round(part * size) : round((part + 1) * size)]
