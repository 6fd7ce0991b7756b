"""Make the small MNIST sample bundled with the explorer (explorer/data/sample/mnist_sample.npz).

Usage, from the repository root, with a folder holding full MNIST (`mnist.npz` or the four IDX
files, gzipped or not):

    python scripts/make_sample.py --data-dir path/to/mnist [--out path/to/sample.npz]

The sample has exactly 600 training and 100 test images of each digit, picked at random with a
fixed seed (so rerunning gives the same arrays) and kept in their original order.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

REPOSITORY_ROOT = Path(__file__).resolve().parent.parent
# Run as a plain script, Python only puts scripts/ on the path; the explorer package is one up.
sys.path.insert(0, str(REPOSITORY_ROOT))

from explorer.data.sources import fingerprint_arrays, read_mnist_folder  # noqa: E402

TRAIN_PER_CLASS = 600
TEST_PER_CLASS = 100
SAMPLE_SEED = 12345
DEFAULT_OUT = REPOSITORY_ROOT / "explorer" / "data" / "sample" / "mnist_sample.npz"


def pick_per_class(labels: np.ndarray, per_class: int, generator: np.random.Generator):
    """Sorted indices of `per_class` random items of each digit 0..9 (sorted keeps the order)."""
    chosen = []
    for digit in range(10):
        members = np.flatnonzero(labels == digit)
        if len(members) < per_class:
            raise ValueError(
                f"only {len(members)} images of digit {digit}, need {per_class}: "
                "is this the full MNIST?"
            )
        chosen.append(generator.choice(members, size=per_class, replace=False))
    return np.sort(np.concatenate(chosen))


def make_sample(data_dir: Path, out: Path) -> str:
    """Write the sample to `out` and return its fingerprint."""
    x_train, y_train, x_test, y_test = read_mnist_folder(data_dir)
    generator = np.random.default_rng(SAMPLE_SEED)
    train = pick_per_class(y_train, TRAIN_PER_CLASS, generator)
    test = pick_per_class(y_test, TEST_PER_CLASS, generator)
    arrays = {
        "x_train": x_train[train].astype(np.uint8),
        "y_train": y_train[train].astype(np.uint8),
        "x_test": x_test[test].astype(np.uint8),
        "y_test": y_test[test].astype(np.uint8),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out, **arrays)
    return fingerprint_arrays(*arrays.values())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True, help="folder with full MNIST")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where to write the .npz")
    args = parser.parse_args(argv)
    try:
        fingerprint = make_sample(args.data_dir, args.out)
    except ValueError as error:
        parser.exit(1, f"make_sample: {error}\n")
    size = args.out.stat().st_size
    print(f"wrote {args.out} ({size:,} bytes), fingerprint {fingerprint}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
