"""Command line: train through the same service and store as the page, and list stored runs.

    python -m explorer train --hidden1 128 --hidden2 0 --epochs 3 --json
    python -m explorer runs
    python -m explorer runs --json        (or --csv)

Teachers use `train` to pre-train a lesson's configurations before class: the page then shows
them instantly. A cached configuration returns at once without loading TensorFlow. A bad value
exits with status 2 and the same message the page shows.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from explorer.config import (
    ACTIVATIONS,
    BATCH_SIZE_CHOICES,
    OPTIMIZERS,
    PRECISIONS,
    TrainingConfig,
    bounds_text,
)
from explorer.model import total_parameters
from explorer.service.service import TrainingService, create_service
from explorer.store.records import RunRecord, StoreError
from explorer.views.reports import rows_to_csv, run_table_row, run_to_json

# (flag, config field, help)
_CONFIG_FLAGS = (
    ("--hidden1", "hidden1", f"neurons in hidden layer 1, {bounds_text('hidden1')} (400)"),
    ("--hidden2", "hidden2", f"neurons in hidden layer 2, {bounds_text('hidden2')}; 0 = none (20)"),
    ("--batch-size", "batch_size", f"{bounds_text('batch_size')}, e.g. {BATCH_SIZE_CHOICES[4:9]}"),
    ("--epochs", "epochs", f"passes over the training set, {bounds_text('epochs')} (5)"),
    ("--optimizer", "optimizer", f"one of {', '.join(OPTIMIZERS)} (sgd)"),
    ("--learning-rate", "learning_rate", "step size; default: the optimizer's Keras default"),
    ("--activation", "activation", f"one of {', '.join(ACTIVATIONS)} (relu)"),
    ("--seed", "seed", "random seed: same seed, same result (0)"),
    ("--train-fraction", "train_fraction", "share of the training set, 0.01 to 1 (1)"),
    ("--precision", "precision", f"one of {', '.join(PRECISIONS)} (float32)"),
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m explorer", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)

    train = commands.add_parser("train", help="train a configuration (or return its cached result)")
    for flag, name, help_text in _CONFIG_FLAGS:
        # Values stay text here: TrainingConfig.from_mapping parses and explains, as on the page.
        train.add_argument(flag, dest=name, metavar="X", help=help_text)
    train.add_argument("--data-dir", help="folder with mnist.npz or the four MNIST IDX files")
    train.add_argument("--json", action="store_true", help="print one JSON object")

    runs = commands.add_parser("runs", help="list stored runs, newest first")
    output = runs.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print a JSON list")
    output.add_argument("--csv", action="store_true", help="print CSV")
    runs.add_argument("--data-dir", help=argparse.SUPPRESS)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    arguments = parser.parse_args(argv)
    if arguments.command == "train":
        values = {name: getattr(arguments, name) for _, name, _ in _CONFIG_FLAGS}
        try:
            config = TrainingConfig.from_mapping(values)
        except ValueError as error:
            parser.error(str(error))  # exits with status 2
    try:
        # One process already: train in it, so killing the command kills the training too.
        service = create_service(arguments.data_dir, isolated=False)
        if arguments.command == "train":
            return _train(service, config, arguments.json)
        return _list_runs(service, "json" if arguments.json else "csv" if arguments.csv else "text")
    except (StoreError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


def _train(service: TrainingService, config: TrainingConfig, as_json: bool) -> int:
    started = time.perf_counter()
    submission = service.submit(config)
    if not submission.cached:
        _follow(service, submission.run_id, quiet=as_json)
    record = service.get(submission.run_id)
    if as_json:
        payload = run_to_json(record, cached=submission.cached, data=service.data)
        payload["seconds_to_result"] = time.perf_counter() - started
        print(json.dumps(payload, indent=2))
    else:
        print(_summary_text(record, submission.cached, service.data.describe()))
    return 0 if record.status in ("complete", "stopped") else 1


def _follow(service: TrainingService, run_id: str, quiet: bool) -> None:
    """Wait for the run, printing each finished epoch to stderr; Ctrl+C stops it cleanly."""
    shown = 0
    try:
        while True:
            progress = service.wait(run_id, timeout=0.5)
            for record in progress.history[shown:]:
                if not quiet:
                    print(
                        f"epoch {record['epoch']}/{progress.epochs}: loss {record['loss']:.4f}, "
                        f"accuracy {record['accuracy']:.4f}, test accuracy "
                        f"{record['test_accuracy']:.4f}",
                        file=sys.stderr,
                    )
            shown = len(progress.history)
            if progress.finished:
                return
    except KeyboardInterrupt:
        print("stopping after the current batch...", file=sys.stderr)
        service.stop(run_id)
        service.wait(run_id)


def _summary_text(record: RunRecord, cached: bool, data_description: str) -> str:
    summary = record.summary
    lines = [
        f"run {record.run_id} ({record.status}{', cached' if cached else ''}): "
        f"{record.config.label()}",
        f"data: {data_description}",
        f"parameters: {total_parameters(record.config):,}",
    ]
    if record.error:
        lines.append(f"error: {record.error}")
    if summary.get("test_accuracy") is not None:
        lines += [
            f"test accuracy (argmax): {summary['test_accuracy']:.4f}",
            f"tutorial's thresholded metric: {summary['thresholded_accuracy']:.4f}",
            f"training time: {summary['train_seconds']:.1f} s "
            f"({summary['samples_per_second']:,.0f} samples/s)",
        ]
    return "\n".join(lines)


def _list_runs(service: TrainingService, output: str) -> int:
    records = service.runs()
    if output == "json":
        print(json.dumps([run_to_json(record) for record in records], indent=2))
        return 0
    rows = [run_table_row(record) for record in records]
    if output == "csv":
        print(rows_to_csv(rows), end="")
        return 0
    if not rows:
        print("No runs stored yet. Train one with: python -m explorer train")
        return 0
    for row in rows:
        accuracy = "" if row["test_accuracy"] is None else f"{row['test_accuracy']:.4f}"
        print(f"{row['run_id']}  {row['status']:<11} {accuracy:>6}  {row['label']}")
    return 0
