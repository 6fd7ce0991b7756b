"""Command line: train, sweep, predict, export and manage runs with the page's service and store.

    python -m explorer train --hidden1 128 --hidden2 0 --epochs 3 --json
    python -m explorer sweep --hidden1 16,64,256 --epochs 1,5 --seeds 0,1,2 --workers 2 --json
    python -m explorer runs [--json | --csv]
    python -m explorer stop RUN_ID           # a run training anywhere on this store
    python -m explorer delete RUN_ID...      # finished runs and their files
    python -m explorer doctor [--repair]     # check the run store; rebuild a damaged registry
    python -m explorer warm lessons/1-width.toml --workers 2   # a lesson's runs, before class
    python -m explorer predict RUN_ID seven.png [--json]   # which digit a run reads in a picture
    python -m explorer export RUN_ID [--out run.zip]       # Keras model, config, history, ...
    python -m explorer challenge start TITLE --max-params 50000 | board | importance | search
                                             # the class: see explorer.classroom_commands

Teachers use `train`, `sweep` and `warm` to pre-train a lesson's configurations before class:
the page then shows them at once. A cached configuration returns without loading TensorFlow, and
so does `predict` (NumPy from the stored weights). A bad value exits with status 2 and the same
message the page shows, as do an unknown or malformed run id and a run without a result given to
`predict` or `export`, and a file that is not a picture; a refused action (delete a run that is
training, stop an unknown run) exits with status 1.
"""

from __future__ import annotations

import argparse
import datetime
import json
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from explorer.architecture import total_parameters
from explorer.classroom_commands import (
    CLASS_COMMANDS,
    add_parsers,
    nickname_requester,
    run_class_command,
)
from explorer.config import (
    ACTIVATIONS,
    BATCH_SIZE_CHOICES,
    OPTIMIZERS,
    PRECISIONS,
    TrainingConfig,
    bounds_text,
)
from explorer.data.drawing import image_to_mnist
from explorer.inference import forward
from explorer.service.classroom import classroom_of
from explorer.service.jobs import COMMAND_LINE, LimitError, Requester
from explorer.service.service import TrainingService, create_service
from explorer.store.records import (
    RESULT_STATUSES,
    NoKerasModel,
    RunRecord,
    StoreError,
    check_run_id,
)
from explorer.views import stats, sweeps
from explorer.views.export import ARCHIVE_FILES, archive_name, run_archive
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

    train = commands.add_parser("train", help="train a configuration (or return its stored result)")
    sweep = commands.add_parser(
        "sweep", help="train every combination of comma-separated values (stored runs are reused)"
    )
    for command, sweeping in ((train, False), (sweep, True)):
        for flag, name, help_text in _CONFIG_FLAGS:
            if sweeping and name == "seed":
                continue
            # Values stay text here: TrainingConfig.from_mapping parses and explains, as on the
            # page. In a sweep each is a comma-separated list.
            command.add_argument(
                flag, dest=name, metavar="X,Y" if sweeping else "X", help=help_text
            )
        _executor_flags(command)
        command.add_argument("--json", action="store_true", help="print JSON")
        command.add_argument(
            "--nickname", metavar="NAME", help="count the runs for NAME on the challenge's board"
        )
    sweep.add_argument(
        "--seeds",
        metavar="0,1,2",
        help=f"repeat each cell with seeds 0 … N−1: N (3) or the list (0,1,2), at most "
        f"{sweeps.MAX_REPEATS} (once, with seed 0)",
    )

    runs = commands.add_parser("runs", help="list stored runs, newest first")
    output = runs.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print a JSON list")
    output.add_argument("--csv", action="store_true", help="print CSV")

    stop = commands.add_parser("stop", help="stop a queued or training run, wherever it trains")
    stop.add_argument("run_id")
    delete = commands.add_parser("delete", help="delete finished runs and their files")
    delete.add_argument("run_ids", nargs="+", metavar="RUN_ID")
    doctor = commands.add_parser("doctor", help="check the run store; rebuild a damaged registry")
    doctor.add_argument(
        "--repair", action="store_true", help="mark runs whose files are gone as failed"
    )
    warm = commands.add_parser("warm", help="train every run of a lesson file before class")
    warm.add_argument("lesson", metavar="LESSON.toml", help="e.g. lessons/1-width.toml")
    _executor_flags(warm)
    warm.add_argument("--json", action="store_true", help="print JSON")
    predict = commands.add_parser(
        "predict", help="the digit a stored run reads in a picture, and its ten probabilities"
    )
    predict.add_argument("run_id", metavar="RUN_ID")
    predict.add_argument(
        "image", metavar="IMAGE", help="a picture of one digit, any size, either polarity"
    )
    predict.add_argument(
        "--json", action="store_true", help='print {"run_id", "prediction", "probabilities"}'
    )
    export = commands.add_parser(
        "export",
        help="save a finished run as a zip: Keras model, config, history, metrics, confusion",
    )
    export.add_argument("run_id", metavar="RUN_ID")
    export.add_argument(
        "--out", metavar="FILE.zip", help="where to write it (default: mnist-run-RUN_ID.zip here)"
    )
    for command in (runs, stop, delete, predict, export):
        command.add_argument("--data-dir", help=argparse.SUPPRESS)
    add_parsers(commands, _executor_flags)
    return parser


class BadArgument(Exception):
    """A run id or file given on the command line that cannot be used: exit status 2."""


def _executor_flags(command: argparse.ArgumentParser) -> None:
    command.add_argument("--data-dir", help="folder with mnist.npz or the four MNIST IDX files")
    where = command.add_mutually_exclusive_group()
    where.add_argument(
        "--workers", type=int, metavar="N", help="train N runs at once in child processes"
    )
    where.add_argument("--ray", metavar="ADDRESS", help="train on a Ray cluster ('auto': local)")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    arguments = parser.parse_args(argv)
    if arguments.command == "doctor":
        return _doctor(arguments.repair)
    configs: list[TrainingConfig] = []
    if arguments.command in ("train", "sweep", "warm"):
        try:
            configs = _configs(arguments)
        except ValueError as error:
            parser.error(str(error))  # exits with status 2
        if arguments.workers is not None and arguments.workers < 1:
            parser.error("--workers must be a whole number of at least 1.")
    # SIGTERM stops training cleanly, as Ctrl+C does: the runs are kept as "stopped".
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    service = None
    try:
        digit = None
        if arguments.command in ("predict", "export"):
            _check_id(arguments.run_id)
        if arguments.command == "predict":
            digit = _read_digit(arguments.image)  # before the store: a bad file fails fast
        service = _service(arguments)
        if arguments.command == "predict":
            return _predict(service, arguments.run_id, digit, arguments.image, arguments.json)
        if arguments.command == "export":
            return _export(service, arguments.run_id, arguments.out)
        if arguments.command in CLASS_COMMANDS:
            return run_class_command(service, arguments, run_to_json)
        requester = COMMAND_LINE
        if getattr(arguments, "nickname", None):
            requester = nickname_requester(service, arguments.nickname)
        if arguments.command == "train":
            return _train(service, configs[0], arguments.json, requester)
        if arguments.command in ("sweep", "warm"):
            return _sweep(service, configs, arguments, requester)
        if arguments.command == "stop":
            print(service.stop(arguments.run_id, COMMAND_LINE))
            return 0
        if arguments.command == "delete":
            service.delete(arguments.run_ids, COMMAND_LINE)
            print(f"Deleted {len(arguments.run_ids)} run(s).")
            return 0
        return _list_runs(service, "json" if arguments.json else "csv" if arguments.csv else "text")
    except BadArgument as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except (StoreError, LimitError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    finally:
        if service is not None:
            service.shutdown()


def _service(arguments: argparse.Namespace) -> TrainingService:
    """Train in this process by default (killing the command kills its training), in child
    processes with --workers, on a Ray cluster with --ray."""
    workers = getattr(arguments, "workers", None)
    return create_service(
        arguments.data_dir,
        isolated=workers is not None,
        workers=workers,
        ray_address=getattr(arguments, "ray", None),
    )


def _configs(arguments: argparse.Namespace) -> list[TrainingConfig]:
    """The config of `train`, or every run of a sweep (explorer.views.sweeps: the page's format;
    the cells in order, seeds innermost), or a lesson's runs (`warm`)."""
    if arguments.command == "warm":
        from explorer.lessons import load_lesson

        return load_lesson(arguments.lesson).all_configs()
    names = [name for _, name, _ in _CONFIG_FLAGS if hasattr(arguments, name)]
    if arguments.command == "train":
        return [TrainingConfig.from_mapping({name: getattr(arguments, name) for name in names})]
    # The page's sweep format: one or two settings, seeds 0 … N − 1, at most MAX_SWEEP_RUNS runs.
    settings = {name: getattr(arguments, name) for name in names}
    spec = sweeps.SweepSpec.from_settings(settings, seeds=arguments.seeds or "")
    return sweeps.sweep_configs(spec)


def _train(
    service: TrainingService,
    config: TrainingConfig,
    as_json: bool,
    requester: Requester = COMMAND_LINE,
) -> int:
    started = time.perf_counter()
    submission = service.submit(config, requester)
    if not submission.cached:
        _follow(service, [submission.run_id], quiet=as_json)
    record = service.get(submission.run_id)
    if as_json:
        payload = run_to_json(record, cached=submission.cached, data=service.data)
        payload["seconds_to_result"] = time.perf_counter() - started
        print(json.dumps(payload, indent=2))
    else:
        print(_summary_text(record, submission.cached, service.data.describe()))
    return 0 if record.status in RESULT_STATUSES else 1


def _sweep(
    service: TrainingService,
    configs: list[TrainingConfig],
    arguments,
    requester: Requester = COMMAND_LINE,
) -> int:
    submissions = [service.submit(config, requester) for config in configs]
    pending = [s.run_id for s in submissions if not s.cached]
    print(
        f"{len(configs)} runs: {len(configs) - len(pending)} stored, {len(pending)} to train.",
        file=sys.stderr,
    )
    _follow(service, pending, quiet=arguments.json, sweep_total=len(configs))
    records = [service.get(s.run_id) for s in submissions]
    if arguments.json:
        runs = []
        for submission, record in zip(submissions, records, strict=True):
            payload = run_to_json(record, cached=submission.cached, data=service.data)
            payload.update(
                worker=record.worker,
                started_at=_iso(record.started_at),
                finished_at=_iso(record.finished_at),
            )
            runs.append(payload)
        output: dict = {"runs": runs}
        if getattr(arguments, "seeds", None):
            output["groups"] = stats.seed_groups(records)
        print(json.dumps(output, indent=2))
    else:
        for record in records:
            print(_one_line(record))
    return 0 if all(r.status in RESULT_STATUSES for r in records) else 1


def _follow(service: TrainingService, run_ids: Sequence[str], quiet: bool, sweep_total=0) -> None:
    """Wait for the runs, printing each finished epoch (one run) or each finished run (a sweep)
    to stderr; Ctrl+C or SIGTERM stops them cleanly."""
    shown = dict.fromkeys(run_ids, 0)
    done: set[str] = set()
    try:
        while len(done) < len(run_ids):
            for run_id in run_ids:
                if run_id in done:
                    continue
                progress = service.wait(run_id, timeout=0.5 / len(run_ids))
                if not sweep_total and not quiet:
                    for record in progress.history[shown[run_id] :]:
                        print(
                            f"epoch {record['epoch']}/{progress.epochs}: loss "
                            f"{record['loss']:.4f}, accuracy {record['accuracy']:.4f}, test "
                            f"accuracy {record['test_accuracy']:.4f}",
                            file=sys.stderr,
                        )
                    shown[run_id] = len(progress.history)
                if progress.finished:
                    done.add(run_id)
                    if sweep_total:
                        line = _one_line(service.get(run_id))
                        print(f"[{len(done)}/{len(run_ids)}] {line}", file=sys.stderr)
    except KeyboardInterrupt:
        print("stopping after the current batch...", file=sys.stderr)
        for run_id in run_ids:
            service.stop(run_id, COMMAND_LINE)
        for run_id in run_ids:
            service.wait(run_id, timeout=60)


def _one_line(record: RunRecord) -> str:
    accuracy = record.summary.get("test_accuracy")
    figure = f"test accuracy {accuracy:.4f}" if accuracy is not None else record.error or ""
    where = f" on {record.worker}" if record.worker else ""
    return f"{record.run_id} {record.status}{where}: {record.config.label()}: {figure}"


def _iso(timestamp: float | None) -> str | None:
    if timestamp is None:
        return None
    return datetime.datetime.fromtimestamp(timestamp, datetime.UTC).isoformat()


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
    # Each run's accuracy on the two halves of the test set (explorer.halves), from its stored
    # predictions; None for a run without a result.
    halves = classroom_of(service).half_scores(records) if output != "text" and records else {}
    if output == "json":
        payloads = [run_to_json(record) | _half_columns(halves, record) for record in records]
        print(json.dumps(payloads, indent=2))
        return 0
    rows = [run_table_row(record) | _half_columns(halves, record) for record in records]
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


def _half_columns(halves: dict, record: RunRecord) -> dict:
    scores = halves.get(record.run_id)
    return {
        "public_accuracy": None if scores is None else scores.public_accuracy,
        "private_accuracy": None if scores is None else scores.private_accuracy,
    }


def _check_id(run_id: str) -> None:
    try:
        check_run_id(run_id)
    except StoreError as error:
        raise BadArgument(str(error)) from None


def _read_digit(image: str):
    try:
        return image_to_mnist(image)
    except ValueError as error:
        raise BadArgument(str(error)) from None


def _finished_run(service: TrainingService, run_id: str) -> RunRecord:
    """The run, if it exists and has a trained network; BadArgument otherwise."""
    record = service.get(run_id)
    if record is None:
        raise BadArgument(
            f"There is no run {run_id} in the run store; `python -m explorer runs` lists them."
        )
    if record.config is None or not record.has_result:
        raise BadArgument(
            f"Run {run_id} is {record.status}: it has no trained network. Train it again."
        )
    return record


def _predict(service: TrainingService, run_id: str, digit, image: str, as_json: bool) -> int:
    """Classify `digit` (MNIST's 28x28 uint8) with the run's stored weights, in NumPy."""
    record = _finished_run(service, run_id)
    result = forward(service.weights(run_id), record.config.activation, digit)
    probabilities = [float(value) for value in result.probabilities[0]]
    prediction = int(result.predictions[0])
    if as_json:
        payload = {"run_id": run_id, "prediction": prediction, "probabilities": probabilities}
        print(json.dumps(payload))
        return 0
    print(
        f"{image}: {prediction} ({probabilities[prediction]:.1%} sure), says run {run_id} "
        f"({record.config.label()})"
    )
    for number, value in enumerate(probabilities):
        bar = "#" * round(value * 40)
        print(f"  {number}  {value:7.2%}  {bar}")
    return 0


def _export(service: TrainingService, run_id: str, out: str | None) -> int:
    """Write the run's zip (explorer.views.export). A run stored before runs kept their Keras
    model gets one built here from its weights, which loads TensorFlow."""
    record = _finished_run(service, run_id)
    try:
        model = service.keras_model(run_id)
    except NoKerasModel:
        print(
            "This run was stored without its Keras model: building it from its weights...",
            file=sys.stderr,
        )
        from explorer.training.saving import keras_model_from_weights

        model = keras_model_from_weights(record.config, service.weights(run_id))
    data = run_archive(record, model)
    path = Path(out or archive_name(record))
    try:
        path.write_bytes(data)
    except OSError as error:
        raise ValueError(f"Cannot write {path}: {error.strerror or error}.") from error
    print(f"Wrote {path} ({len(data) / 1e6:.1f} MB): {', '.join(ARCHIVE_FILES)}")
    return 0


def _doctor(repair: bool) -> int:
    from explorer.store.doctor import check_and_repair
    from explorer.store.registry import default_home

    report = check_and_repair(default_home(), repair=repair)
    print(report.text())
    return 0 if report.healthy_now else 1
