"""What the shipped lessons' notes claim, checked against real training (about 20 s in all).

    python -m pytest tests/test_lessons_trained.py

Every run of every lesson is trained once on the bundled sample (6,000 training and 1,000 test
digits), and each claim a note makes that a run can show is checked: which run is better, which
one starts faster, which one overfits, that none blows up. The notes quote figures measured on
the full MNIST; on the sample the accuracies are lower, but every claim checked here holds on
both (full MNIST, 4 Dec 2026: width 16/64/128/400 → 88.2/89.5/89.6/89.9 %; SGD step size
0.001/0.01/0.1/1.0 → 77.0/89.6/94.8/97.4 %, Adam 97.2 %, RMSprop 97.2 %; batch 2048/200/32 →
77.1/89.6/93.6 %; 512 neurons on 2 % / 20 % for 50 epochs: train 100 %, test 90.8 / 96.5 %).
The seeds are fixed, so the runs are the same every time.
"""

from __future__ import annotations

import pytest

from explorer.config import TrainingConfig
from explorer.lessons import all_lessons

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def trained(sample_data):
    """The last epoch's figures (and the first epoch's test accuracy) of every lesson run."""
    from explorer.training.loop import train

    figures = {}
    for lesson in all_lessons().values():
        for config in lesson.all_configs():
            history = train(config, sample_data).history
            figures[config] = {
                "test": history[-1]["test_accuracy"],
                "train": history[-1]["accuracy"],
                "first": history[0]["test_accuracy"],
                "losses": [epoch["loss"] for epoch in history],
            }
    return figures


def step(lesson: str, number: int):
    return all_lessons()[lesson].steps[number - 1]


def test_wider_is_better_but_each_neuron_buys_less(trained):
    tutorial, narrow = step("1-width", 1).configs[0], step("1-width", 2).configs[0]
    assert narrow == TrainingConfig(hidden1=16, hidden2=0)  # the note names both changes
    assert trained[narrow]["test"] < trained[tutorial]["test"]  # "how much accuracy is lost?"
    w16, w64, w128, w400 = (trained[config]["test"] for config in step("1-width", 3).configs)
    assert w16 < w64 < w128 < w400
    assert w64 - w16 > w400 - w128  # "fast at first, then slowly"


def test_the_deeper_network_starts_slower(trained):
    one, two, wide = step("2-depth", 3).configs
    assert (one.hidden2, two.hidden2, wide.hidden1) == (0, 64, 70)
    assert trained[two]["first"] < min(trained[one]["first"], trained[wide]["first"])


def test_big_batches_learn_slowly_per_epoch(trained):
    b200, b32, b2048 = step("3-batch-size", 3).configs
    assert (b200.batch_size, b32.batch_size, b2048.batch_size) == (200, 32, 2048)
    assert trained[b2048]["test"] < trained[b200]["test"] < trained[b32]["test"]


def test_adam_is_ahead_after_the_first_epoch(trained):
    sgd, adam = step("4-optimizer", 1).configs[0], step("4-optimizer", 2).configs[0]
    assert trained[adam]["first"] > trained[sgd]["first"]


def test_step_sizes_crawl_learn_and_none_blows_up(trained):
    configs = step("4-optimizer", 3).configs
    rates = [config.learning_rate for config in configs]
    assert rates == [0.01, 0.001, 0.1, 1.0]
    r01, r001, r1, r10 = (trained[config]["test"] for config in configs)
    assert r001 < r01 < r1 <= r10  # 0.001 crawls, 0.1 learns fast, 1.0 is the best here
    for config in configs:  # "None of them blows up": the loss ends lower than it began
        losses = trained[config]["losses"]
        assert losses[-1] < losses[0]


def test_adaptive_optimizers_beat_sgd_at_its_default_step(trained):
    sgd, adam, rmsprop = step("4-optimizer", 4).configs
    assert (sgd.optimizer, adam.optimizer, rmsprop.optimizer) == ("sgd", "adam", "rmsprop")
    assert min(trained[adam]["test"], trained[rmsprop]["test"]) > trained[sgd]["test"]


def test_little_data_overfits_and_more_data_closes_the_gap(trained):
    many_epochs = step("5-overfitting", 2).configs[0]
    assert trained[many_epochs]["train"] >= 0.99  # "climbs towards 100 %"
    small, large = step("5-overfitting", 3).configs
    gaps = [trained[config]["train"] - trained[config]["test"] for config in (small, large)]
    assert gaps[0] > 0.05 and gaps[0] > 2 * gaps[1]
