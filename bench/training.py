"""Training speed: the tutorial's own script against the product's training path, side by side.

    python bench/training.py --data-dir FOLDER_WITH_FULL_MNIST [--repeats 3] [--configs default]
                             [--precision float32|bfloat16]

For each configuration, (a) a faithful copy of the tutorial's script (Keras Sequential, one-hot
labels, categorical cross-entropy, SGD, `model.fit`) and (b) `explorer.training.train` run
alternately, each in a fresh Python process, `--repeats` times. Printed first: the CPU kind
(`explorer.config.cpu_kind`: AMX, AVX512-BF16 without AMX, or no bfloat16) and the training
threads it gets. Printed per configuration: the median fit seconds of each, the ratio b/a (the
product's first training of these shapes in its process: TensorFlow loaded, graphs new), the
ratio of a second training of the same shapes in the same process (warm graphs, as a long-lived
trainer meets a config a student changed only in its seed or rate), the test accuracy (argmax)
of both, and the share of the FLOP floor reached: the run's training FLOPs divided by this
machine's measured fp32 matrix-multiply rate, over the measured seconds. Results also go to
bench/results/training.json. The tutorial's runs are unseeded; the product's repeat k uses seed
k, so both accuracies are medians over different initial weights. The product uses this CPU's
fast arithmetic (`explorer.config.fast_precision`) unless --precision says otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CONFIGS = {
    "default": {"hidden1": 400, "hidden2": 20, "batch_size": 200},
    "large": {"hidden1": 1024, "hidden2": 512, "batch_size": 32},
    "small": {"hidden1": 32, "hidden2": 0, "batch_size": 200, "epochs": 1},
}


def tutorial_worker(
    data_dir: str, hidden1: int, hidden2: int, batch_size: int, epochs: int = 5
) -> dict:
    """The tutorial's script, as written there (with its two errors put right)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import numpy as np
    from keras.layers import Dense
    from keras.models import Sequential
    from keras.utils import to_categorical

    from explorer.data.sources import load_mnist

    data = load_mnist(data_dir)  # the tutorial's mnist.load_data(), from the same files
    x_train, y_train, x_test, y_test = data.x_train, data.y_train, data.x_test, data.y_test
    x_train = x_train.reshape(60000, 784).astype("float32") / 255
    x_test = x_test.reshape(10000, 784).astype("float32") / 255
    classes = 10
    y_train_hot = to_categorical(y_train, classes)
    model = Sequential()
    model.add(Dense(hidden1, input_dim=784, activation="relu"))
    if hidden2:
        model.add(Dense(hidden2, activation="relu"))
    model.add(Dense(classes, activation="softmax"))
    model.compile(loss="categorical_crossentropy", metrics=["accuracy"], optimizer="sgd")
    tic = time.perf_counter()
    model.fit(x_train, y_train_hot, batch_size=batch_size, epochs=epochs, verbose=0)
    toc = time.perf_counter()
    probabilities = model.predict(x_test, verbose=0)
    accuracy = float(np.mean(probabilities.argmax(axis=1) == y_test))
    return {"seconds": toc - tic, "accuracy": accuracy}


def product_worker(
    data_dir: str,
    hidden1: int,
    hidden2: int,
    batch_size: int,
    seed: int,
    precision: str | None,
    epochs: int = 5,
) -> dict:
    """The product's path: explorer.training.train, timed around the call as the page sees it
    (it also builds the model and scores the test set after every epoch, which the tutorial's
    timing leaves out). `seed` is the repeat's number: the tutorial's runs are unseeded, so
    each side's accuracy is a median over different initial weights and orders."""
    from explorer.config import TrainingConfig
    from explorer.data.sources import load_mnist
    from explorer.training.loop import train
    from explorer.training.runtime import configure_tensorflow

    data = load_mnist(data_dir)
    configure_tensorflow(0)  # TensorFlow loads once per training process, not per training
    shapes = {"hidden1": hidden1, "hidden2": hidden2, "batch_size": batch_size, "epochs": epochs}
    config = TrainingConfig(**shapes, seed=seed, precision=precision)
    tic = time.perf_counter()
    result = train(config, data)
    toc = time.perf_counter()
    # The same shapes again in this process, as a long-lived trainer meets them: warm graphs.
    again = time.perf_counter()
    train(TrainingConfig(**shapes, seed=seed + 100, precision=precision), data)
    warm_seconds = time.perf_counter() - again
    return {
        "seconds": toc - tic,
        "warm_seconds": warm_seconds,
        "fit_seconds": result.train_seconds,
        "accuracy": result.test_accuracy,
        "precision": config.precision,
    }


def matmul_rate() -> float:
    """Best fp32 GFLOP/s of a 2048x2048 matrix multiply on this machine (NumPy's BLAS)."""
    import numpy as np

    a = np.random.default_rng(0).random((2048, 2048), dtype=np.float32)
    a @ a
    best = min(_timed(lambda: a @ a) for _ in range(5))
    return 2 * 2048**3 / best / 1e9


def _timed(function) -> float:
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


def run_worker(kind: str, data_dir: str, name: str, seed: int, precision: str | None) -> dict:
    command = [sys.executable, __file__, "--worker", kind, "--data-dir", data_dir]
    command += ["--configs", name, "--seed", str(seed), "--precision", precision or ""]
    output = subprocess.run(command, capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(output.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", default=os.environ.get("EXPLORER_DATA_DIR"))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--configs", default="default,large,small")
    parser.add_argument("--precision", default="", help="product's arithmetic (this CPU's default)")
    parser.add_argument("--worker", choices=["tutorial", "product"], help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if not arguments.data_dir:
        parser.error("give --data-dir (or EXPLORER_DATA_DIR): a folder with the full MNIST")
    if arguments.worker == "tutorial":
        print(json.dumps(tutorial_worker(arguments.data_dir, **CONFIGS[arguments.configs])))
        return
    if arguments.worker == "product":
        config = CONFIGS[arguments.configs]
        precision = arguments.precision or None
        print(
            json.dumps(
                product_worker(
                    arguments.data_dir, **config, seed=arguments.seed, precision=precision
                )
            )
        )
        return

    from explorer.architecture import train_flops_per_sample
    from explorer.config import TrainingConfig, cpu_kind, fast_precision
    from explorer.training.runtime import training_threads

    rate = matmul_rate()
    print(f"CPU kind: {cpu_kind()} (training threads: {training_threads() or 'all cores'})")
    print(f"fp32 matmul rate on this machine: {rate:.0f} GFLOP/s")
    precision = arguments.precision or fast_precision()
    print(f"product arithmetic: {precision} (--precision float32 for the tutorial's)")
    report = {"cpu_kind": cpu_kind(), "matmul_gflops": rate, "precision": precision, "configs": {}}
    for name in arguments.configs.split(","):
        runs: dict[str, list[dict]] = {"tutorial": [], "product": []}
        for repeat in range(arguments.repeats):  # alternate: drifts in machine load hit both
            for kind in runs:
                runs[kind].append(run_worker(kind, arguments.data_dir, name, repeat, precision))
        config = TrainingConfig(**CONFIGS[name])
        floor = train_flops_per_sample(config) * 60000 * config.epochs / (rate * 1e9)
        summary = {kind: _summary(results, floor) for kind, results in runs.items()}
        summary["ratio"] = (
            summary["product"]["median_seconds"] / summary["tutorial"]["median_seconds"]
        )
        summary["floor_seconds"] = floor
        summary["warm_ratio"] = (
            statistics.median(r["warm_seconds"] for r in runs["product"])
            / summary["tutorial"]["median_seconds"]
        )
        report["configs"][name] = {"config": CONFIGS[name], "runs": runs, **summary}
        _print(name, summary)
    output = ROOT / "bench" / "results" / "training.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=2))


def _summary(results: list[dict], floor: float) -> dict:
    median = statistics.median(r["seconds"] for r in results)
    return {
        "median_seconds": median,
        "accuracy": statistics.median(r["accuracy"] for r in results),
        "floor_share": floor / median,
    }


def _print(name: str, summary: dict) -> None:
    tutorial, product = summary["tutorial"], summary["product"]
    print(
        f"{name:>8}: tutorial {tutorial['median_seconds']:.2f} s (acc {tutorial['accuracy']:.4f}, "
        f"{tutorial['floor_share']:.0%} of floor) | product {product['median_seconds']:.2f} s "
        f"(acc {product['accuracy']:.4f}, {product['floor_share']:.0%} of floor) | "
        f"ratio b/a {summary['ratio']:.2f} (same shapes again in the trainer: "
        f"{summary['warm_ratio']:.2f}) | floor {summary['floor_seconds']:.2f} s"
    )


if __name__ == "__main__":
    main()
