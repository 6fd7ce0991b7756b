"""TrainingConfig: defaults, bounds, messages, parsing and the cache key."""

import math

import pytest

from explorer.config import BOUNDS, TrainingConfig


def test_defaults_are_the_tutorials():
    config = TrainingConfig()
    assert (config.hidden1, config.hidden2, config.batch_size, config.epochs) == (400, 20, 200, 5)
    assert (config.optimizer, config.activation, config.seed) == ("sgd", "relu", 0)
    assert config.learning_rate == 0.01
    assert config.train_fraction == 1.0


@pytest.mark.parametrize(
    ("optimizer", "rate"), [("sgd", 0.01), ("adam", 0.001), ("rmsprop", 0.001)]
)
def test_learning_rate_defaults_to_the_optimizers_keras_default(optimizer, rate):
    assert TrainingConfig(optimizer=optimizer).learning_rate == rate


def test_default_learning_rate_gives_the_same_key_as_the_explicit_one():
    assert TrainingConfig() == TrainingConfig(learning_rate=0.01)
    assert TrainingConfig().cache_key("f") == TrainingConfig(learning_rate=0.01).cache_key("f")


@pytest.mark.parametrize("name", ["hidden1", "hidden2", "batch_size", "epochs", "seed"])
def test_integer_bounds_are_inclusive_and_enforced(name):
    low, high = BOUNDS[name]
    TrainingConfig(**{name: int(low)})
    TrainingConfig(**{name: int(high)})
    for bad in (int(low) - 1, int(high) + 1):
        with pytest.raises(ValueError, match=rf"^{name} must be a whole number from .* got"):
            TrainingConfig(**{name: bad})


def test_message_names_field_value_and_range():
    with pytest.raises(ValueError) as caught:
        TrainingConfig(hidden1=5000)
    assert str(caught.value) == "hidden1 must be a whole number from 1 to 1,024; got 5,000."


@pytest.mark.parametrize("value", [0, -1, 2.0, math.nan, math.inf, -math.inf, "0.1", None, True])
def test_bad_train_fraction(value):
    with pytest.raises(ValueError, match=r"train_fraction must be a number from 0\.01 to 1"):
        TrainingConfig(train_fraction=value)


@pytest.mark.parametrize("value", [0, 1e-6, 1.5, math.nan, math.inf, "fast"])
def test_bad_learning_rate(value):
    with pytest.raises(ValueError, match="learning_rate must be a number from 1e-05 to 1"):
        TrainingConfig(learning_rate=value)


@pytest.mark.parametrize(("name", "value"), [("optimizer", "adagrad"), ("activation", "gelu")])
def test_unknown_choices(name, value):
    with pytest.raises(ValueError, match=rf"{name} must be one of .*; got '{value}'"):
        TrainingConfig(**{name: value})


def test_bools_and_floats_are_not_layer_sizes():
    with pytest.raises(ValueError, match="hidden1"):
        TrainingConfig(hidden1=True)
    with pytest.raises(ValueError, match="hidden1"):
        TrainingConfig(hidden1=400.0)


def test_from_mapping_parses_text():
    config = TrainingConfig.from_mapping(
        {
            "hidden1": "128",
            "hidden2": "0",
            "batch_size": "1,024",
            "learning_rate": "0.1",
            "optimizer": " Adam ",
            "train_fraction": "0.5",
            "epochs": "3.0",
        }
    )
    assert config == TrainingConfig(
        hidden1=128,
        hidden2=0,
        batch_size=1024,
        learning_rate=0.1,
        optimizer="adam",
        train_fraction=0.5,
        epochs=3,
    )


def test_from_mapping_skips_blank_values_and_uses_defaults():
    assert TrainingConfig.from_mapping({"hidden1": "", "epochs": None}) == TrainingConfig()


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"hidden1": "abc"}, "hidden1 must be a whole number"),
        ({"hidden1": "12.5"}, "hidden1 must be a whole number"),
        ({"epochs": "nan"}, "epochs must be a whole number"),
        ({"batch_size": "-5"}, "batch_size must be a whole number from 1 to 60,000; got -5"),
        ({"learning_rate": "inf"}, "learning_rate must be a number"),
        ({"learning_rate": "NaN"}, "learning_rate must be a number"),
        ({"hidden3": "5"}, "Unknown setting 'hidden3'"),
        ({"optimizer": "adagrad"}, "optimizer must be one of sgd, adam, rmsprop"),
        ({"seed": "99999999999"}, "seed must be a whole number"),
    ],
)
def test_from_mapping_rejects_bad_text(values, message):
    with pytest.raises(ValueError, match=message):
        TrainingConfig.from_mapping(values)


def test_cache_key_changes_with_any_field_and_with_the_data():
    base = TrainingConfig()
    keys = {base.cache_key("data-a"), base.cache_key("data-b")}
    for change in [
        {"hidden1": 401},
        {"hidden2": 0},
        {"batch_size": 100},
        {"epochs": 6},
        {"optimizer": "adam"},
        {"learning_rate": 0.02},
        {"activation": "tanh"},
        {"seed": 1},
        {"train_fraction": 0.5},
    ]:
        keys.add(base.replace(**change).cache_key("data-a"))
    assert len(keys) == 11


def test_canonical_json_is_stable_and_round_trips():
    config = TrainingConfig(hidden1=64, optimizer="adam")
    assert config.canonical_json() == TrainingConfig(optimizer="adam", hidden1=64).canonical_json()
    assert TrainingConfig.from_mapping(config.to_dict()) == config


def test_replace_with_new_optimizer_takes_its_default_rate():
    assert TrainingConfig().replace(optimizer="adam").learning_rate == 0.001
    assert TrainingConfig().replace(optimizer="adam", learning_rate=0.1).learning_rate == 0.1


def test_config_is_frozen():
    with pytest.raises(AttributeError):
        TrainingConfig().hidden1 = 3


def test_label():
    assert TrainingConfig().label() == "784-400-20-10 · sgd 0.01 · batch 200 · 5 epochs"
    assert TrainingConfig(hidden2=0, epochs=1, train_fraction=0.1, seed=3).label() == (
        "784-400-10 · sgd 0.01 · batch 200 · 1 epoch · 10% of data · seed 3"
    )


@pytest.mark.parametrize("cpu", ["bfloat16", "float32"])
def test_precision_defaults_to_float32_on_every_computer(monkeypatch, cpu):
    """A link and the tutorial's baseline name the same run on a CPU with bfloat16 and without
    (it used to be this computer's fastest arithmetic, so the cache keys differed)."""
    from explorer import config as config_module
    from explorer.ui.links import to_query

    monkeypatch.setattr(config_module, "_cpu_precision", lambda: cpu)
    assert config_module.fast_precision() == cpu
    assert TrainingConfig().precision == "float32"
    assert TrainingConfig().cache_key("data") == TrainingConfig(precision="float32").cache_key(
        "data"
    )
    assert to_query(TrainingConfig()) == {}
    assert to_query(TrainingConfig(precision="bfloat16")) == {"precision": "bfloat16"}


def test_precision_can_be_chosen():
    assert TrainingConfig.from_mapping({"precision": " Float32 "}).precision == "float32"
    # Different arithmetic, different result: never served from each other's cache.
    key = TrainingConfig(precision="float32").cache_key("data")
    assert key != TrainingConfig(precision="bfloat16").cache_key("data")
    with pytest.raises(ValueError, match="precision must be one of float32, bfloat16; got 'fp8'"):
        TrainingConfig(precision="fp8")


@pytest.mark.parametrize(
    ("flags", "kind", "fast"),
    [
        ("fpu avx2 avx512f avx512_bf16 amx_bf16 amx_tile", "amx", "bfloat16"),
        ("fpu avx2 avx512f avx512_bf16", "avx512_bf16", "bfloat16"),
        ("fpu avx2 avx512f", "no bfloat16", "float32"),
    ],
)
def test_the_cpu_kind_is_read_from_the_cpu_flags(monkeypatch, tmp_path, flags, kind, fast):
    from explorer import config as config_module

    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(f"processor\t: 0\nflags\t\t: {flags}\n")
    real_path = config_module.Path
    monkeypatch.setattr(
        config_module, "Path", lambda name: cpuinfo if name == "/proc/cpuinfo" else real_path(name)
    )
    config_module.cpu_has.cache_clear()
    config_module._cpu_precision.cache_clear()
    try:
        assert config_module.cpu_kind() == kind
        assert config_module.fast_precision() == fast
    finally:
        config_module.cpu_has.cache_clear()
        config_module._cpu_precision.cache_clear()
