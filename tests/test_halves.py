"""The public and private halves of the test set: fixed, balanced, disjoint, scored right."""

import numpy as np
import pytest

from explorer.data.npz import read_npz
from explorer.data.sources import SAMPLE_PATH
from explorer.halves import (
    MNIST_PUBLIC_FILE,
    indices_digest,
    public_indices_by_rule,
    test_halves,
)
from tests.conftest import FULL_MNIST_DIR

# Pinned: a change to the rule or the shipped file would move every board's scores.
MNIST_PUBLIC_DIGEST = "ccd9071db1086d48f7239caddc8fbfa5ff0d365bdc8a9f819b07a232c9ffd483"
SAMPLE_PUBLIC_DIGEST = "85c9cc00aa5fbaf8cae2878e4ea98df2550d5e7fa59d326343fe1dc3cd5e40b1"


@pytest.fixture(scope="module")
def sample_labels():
    return read_npz(SAMPLE_PATH)[3]


@pytest.fixture(scope="module")
def mnist_labels():
    if FULL_MNIST_DIR is None:
        pytest.skip("full MNIST is not available (EXPLORER_DATA_DIR unset)")
    from explorer.data.sources import load_mnist

    return load_mnist(FULL_MNIST_DIR).y_test


def test_the_shipped_mnist_indices_have_a_fixed_hash():
    shipped = np.load(MNIST_PUBLIC_FILE, allow_pickle=False)
    assert shipped.shape == (5_000,)
    assert indices_digest(shipped) == MNIST_PUBLIC_DIGEST


def test_the_samples_halves_have_a_fixed_hash_and_50_of_each_digit_each(sample_labels):
    halves = test_halves(sample_labels)
    assert halves.digest() == SAMPLE_PUBLIC_DIGEST
    assert np.bincount(sample_labels[halves.public], minlength=10).tolist() == [50] * 10
    assert np.bincount(sample_labels[halves.private], minlength=10).tolist() == [50] * 10


def test_the_halves_are_disjoint_and_together_the_test_set(sample_labels):
    halves = test_halves(sample_labels)
    assert len(np.intersect1d(halves.public, halves.private)) == 0
    together = np.sort(np.concatenate([halves.public, halves.private]))
    assert together.tolist() == list(range(len(sample_labels)))


def test_the_rule_does_not_depend_on_numpys_generator_or_the_call():
    labels = (np.arange(200) * 7 % 10).astype(np.uint8)
    first = public_indices_by_rule(labels)
    np.random.seed(123)  # a global generator state must not matter
    assert public_indices_by_rule(labels).tolist() == first.tolist()
    assert len(first) == 100
    assert np.bincount(labels[first], minlength=10).tolist() == [10] * 10


def test_mnists_public_half_has_500_of_each_digit_and_is_the_shipped_file(mnist_labels):
    halves = test_halves(mnist_labels)
    assert halves.digest() == MNIST_PUBLIC_DIGEST
    assert public_indices_by_rule(mnist_labels).tolist() == halves.public.tolist()
    assert np.bincount(mnist_labels[halves.public], minlength=10).tolist() == [500] * 10
    # MNIST has 892 fives and 1,135 ones: the private half holds the rest of each digit.
    private_counts = np.bincount(mnist_labels[halves.private], minlength=10)
    assert private_counts.tolist() == (np.bincount(mnist_labels, minlength=10) - 500).tolist()
    assert len(halves.private) == 5_000


def test_both_accuracies_match_a_direct_count(sample_labels):
    rng = np.random.default_rng(4)
    predicted = np.where(rng.random(1000) < 0.8, sample_labels, (sample_labels + 1) % 10)
    halves = test_halves(sample_labels)
    scores = halves.score(predicted, sample_labels)
    public_right = sum(predicted[i] == sample_labels[i] for i in halves.public)
    private_right = sum(predicted[i] == sample_labels[i] for i in halves.private)
    assert scores.public_accuracy == pytest.approx(public_right / 500)
    assert scores.private_accuracy == pytest.approx(private_right / 500)
    # Equal halves: their mean is the test accuracy.
    mean = (scores.public_accuracy + scores.private_accuracy) / 2
    assert mean == pytest.approx(float(np.mean(predicted == sample_labels)))


def test_predictions_of_another_length_are_refused(sample_labels):
    with pytest.raises(ValueError, match="Got 10 predictions for a test set of 1000 digits"):
        test_halves(sample_labels).score(np.zeros(10, np.uint8), sample_labels)
