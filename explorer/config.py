"""The training configuration: one frozen dataclass that is both the form's value and the cache key.

Use it like this::

    config = TrainingConfig(hidden1=128, hidden2=0, epochs=3)   # ValueError on bad values
    config = TrainingConfig.from_mapping({"hidden1": "128"})     # from the URL, the CLI or JSON
    key = config.cache_key(data_fingerprint)                      # identifies a trained result

Every field is checked when the object is made, so a `TrainingConfig` that exists is always valid,
and the message of the `ValueError` names the field, the bad value and what is allowed.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Bumped whenever the meaning of a stored result changes (model layout, training loop, metrics),
# so results trained by older code are never shown as if they came from this one.
# 2: own training loop, precision field; 3: hand-written SGD step, and two training threads on
# CPUs without AMX (other rounding, so other bits than version 2).
MODEL_VERSION = 3

OPTIMIZERS = ("sgd", "adam", "rmsprop")
PRECISIONS = ("float32", "bfloat16")
ACTIVATIONS = ("relu", "tanh", "sigmoid")

# Keras' own default learning rates, so "no learning rate chosen" means what Keras would do.
DEFAULT_LEARNING_RATES = {"sgd": 0.01, "adam": 0.001, "rmsprop": 0.001}

# Batch sizes offered by the page's select-slider; any size inside BOUNDS is valid elsewhere.
BATCH_SIZE_CHOICES = (1, 8, 16, 32, 64, 100, 128, 200, 256, 512, 1024, 2048, 4096, 10000, 60000)

# Inclusive (low, high) bounds of the numeric fields.
BOUNDS: dict[str, tuple[float, float]] = {
    "hidden1": (1, 1024),
    "hidden2": (0, 512),
    "batch_size": (1, 60000),
    "epochs": (1, 50),
    "learning_rate": (1e-5, 1.0),
    "seed": (0, 2**31 - 1),
    "train_fraction": (0.01, 1.0),
}

INTEGER_FIELDS = ("hidden1", "hidden2", "batch_size", "epochs", "seed")
FLOAT_FIELDS = ("learning_rate", "train_fraction")
CHOICE_FIELDS = {"optimizer": OPTIMIZERS, "activation": ACTIVATIONS, "precision": PRECISIONS}

# What each field is called on the page, in tables and in messages for students.
FIELD_LABELS = {
    "hidden1": "Neurons in hidden layer 1",
    "hidden2": "Neurons in hidden layer 2",
    "batch_size": "Batch size",
    "epochs": "Epochs",
    "optimizer": "Optimizer",
    "learning_rate": "Learning rate",
    "activation": "Activation",
    "seed": "Seed",
    "train_fraction": "Share of the training set",
    "precision": "Arithmetic",
}


def fast_precision() -> str:
    """The arithmetic this computer multiplies fastest: "bfloat16" where the CPU has AMX or
    AVX512-BF16 (faster, same accuracy: figures in the README), else "float32".

    Only advice for the page's labels: the default of a config never depends on the computer,
    so a link or the tutorial's baseline names the same run everywhere.
    """
    return _cpu_precision()


def cpu_kind() -> str:
    """ "amx", "avx512_bf16" or "no bfloat16": the kinds of CPU whose best settings differ
    (bench/training.py prints it; the trainer's thread count follows it)."""
    if cpu_has("amx_bf16"):
        return "amx"
    return "avx512_bf16" if cpu_has("avx512_bf16") else "no bfloat16"


@functools.cache
def _cpu_precision() -> str:
    return "float32" if cpu_kind() == "no bfloat16" else "bfloat16"


@functools.cache
def cpu_has(flag: str) -> bool:
    """Whether /proc/cpuinfo lists `flag` (False where there is no such file: not Linux, where
    there is no cheap way to ask, and float32 is never slow)."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return re.search(rf"\b{re.escape(flag)}\b", flags) is not None


@dataclass(frozen=True)
class TrainingConfig:
    """Everything that decides what a training run produces (the tutorial's values by default)."""

    # Neurons in the first hidden layer (the tutorial's `hidden1`).
    hidden1: int = 400
    # Neurons in the second hidden layer; 0 means the network has no second hidden layer.
    hidden2: int = 20
    # Training examples per gradient step.
    batch_size: int = 200
    # Passes over the training set.
    epochs: int = 5
    # Gradient-descent variant: "sgd" (the tutorial's), "adam" or "rmsprop".
    optimizer: str = "sgd"
    # Step size; None (the default) means the optimizer's Keras default (0.01 for SGD).
    learning_rate: float | None = field(default=None)
    # Non-linearity of the hidden layers: "relu" (the tutorial's), "tanh" or "sigmoid".
    activation: str = "relu"
    # Seeds weight initialisation, shuffling and the training subset: same seed, same result.
    seed: int = 0
    # Share of the training set used (a class-stratified subset), for quick runs.
    train_fraction: float = 1.0
    # Arithmetic of the hidden layers' products: "float32" (the tutorial's) or "bfloat16" (fast
    # on CPUs with AMX or AVX512-BF16, see `fast_precision`). Never chosen by the computer, so
    # the same config means the same run everywhere.
    precision: str = "float32"

    def __post_init__(self) -> None:
        for name in CHOICE_FIELDS:
            _check_choice(name, getattr(self, name))
        if self.learning_rate is None:
            # Frozen dataclass: resolve the default once so equal configs compare and hash equal.
            object.__setattr__(self, "learning_rate", DEFAULT_LEARNING_RATES[self.optimizer])
        for name in INTEGER_FIELDS:
            _check_integer(name, getattr(self, name))
        for name in FLOAT_FIELDS:
            value = _check_float(name, getattr(self, name))
            object.__setattr__(self, name, value)

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> TrainingConfig:
        """Build a config from text or loosely typed values (URL, command line, JSON).

        Unknown keys are rejected so that a typo never silently trains the default instead.
        """
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(
                f"Unknown setting {', '.join(map(repr, unknown))}. "
                f"Known settings: {', '.join(sorted(known))}."
            )
        parsed: dict[str, Any] = {}
        for name, raw in values.items():
            if raw is None or (isinstance(raw, str) and raw.strip() == ""):
                continue
            if name in INTEGER_FIELDS:
                parsed[name] = _parse_integer(name, raw)
            elif name in FLOAT_FIELDS:
                parsed[name] = _parse_float(name, raw)
            else:
                parsed[name] = str(raw).strip().lower()
        return cls(**parsed)

    def replace(self, **changes: Any) -> TrainingConfig:
        """A copy with some fields changed (validated like a new config).

        Changing the optimizer without a learning rate picks the new optimizer's default rate.
        """
        if "optimizer" in changes and "learning_rate" not in changes:
            changes["learning_rate"] = None
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """The canonical form: plain JSON types, every field present."""
        return dataclasses.asdict(self)

    def canonical_json(self) -> str:
        """Stable text of the config: sorted keys, no spaces (part of the cache key)."""
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))

    def cache_key(self, data_fingerprint: str) -> str:
        """Hex digest identifying the result of training this config on the given data."""
        text = f"v{MODEL_VERSION}|{data_fingerprint}|{self.canonical_json()}"
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def label(self) -> str:
        """A short human label such as "784-400-20-10 · sgd 0.01 · batch 200 · 5 epochs"."""
        layers = [784, self.hidden1] + ([self.hidden2] if self.hidden2 else []) + [10]
        text = (
            f"{'-'.join(map(str, layers))} · {self.optimizer} {self.learning_rate:g}"
            f" · batch {self.batch_size} · {self.epochs} epoch{'s' if self.epochs != 1 else ''}"
        )
        if self.activation != "relu":
            text += f" · {self.activation}"
        if self.train_fraction < 1.0:
            text += f" · {self.train_fraction:.0%} of data"
        if self.seed:
            text += f" · seed {self.seed}"
        if self.precision != "float32":
            text += f" · {self.precision}"
        return text


def bounds_text(name: str) -> str:
    """The allowed range of a numeric field, as a student reads it ("1 to 1024")."""
    low, high = BOUNDS[name]
    if name in INTEGER_FIELDS:
        return f"a whole number from {int(low):,} to {int(high):,}"
    return f"a number from {low:g} to {high:g}"


def _check_choice(name: str, value: Any) -> None:
    allowed = CHOICE_FIELDS[name]
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}; got {value!r}.")


def _check_integer(name: str, value: Any) -> None:
    # bool is an int subclass; True as a layer size is a bug, not a request for 1 neuron.
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be {bounds_text(name)}; got {value!r}.")
    low, high = BOUNDS[name]
    if not low <= value <= high:
        raise ValueError(f"{name} must be {bounds_text(name)}; got {value:,}.")


def _check_float(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{name} must be {bounds_text(name)}; got {value!r}.")
    value = float(value)
    low, high = BOUNDS[name]
    if not math.isfinite(value) or not low <= value <= high:
        raise ValueError(f"{name} must be {bounds_text(name)}; got {value!r}.")
    return value


def _parse_integer(name: str, raw: Any) -> int:
    if isinstance(raw, bool):
        raise ValueError(f"{name} must be {bounds_text(name)}; got {raw!r}.")
    if isinstance(raw, int):
        return raw
    text = str(raw).strip().replace(",", "").replace("_", "")
    try:
        number = float(text)
    except ValueError:
        raise ValueError(f"{name} must be {bounds_text(name)}; got {raw!r}.") from None
    if not math.isfinite(number) or number != int(number):
        raise ValueError(f"{name} must be {bounds_text(name)}; got {raw!r}.")
    return int(number)


def _parse_float(name: str, raw: Any) -> float:
    if isinstance(raw, bool):
        raise ValueError(f"{name} must be {bounds_text(name)}; got {raw!r}.")
    try:
        number = float(str(raw).strip()) if isinstance(raw, str) else float(raw)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be {bounds_text(name)}; got {raw!r}.") from None
    if not math.isfinite(number):
        raise ValueError(f"{name} must be {bounds_text(name)}; got {raw!r}.")
    return number
