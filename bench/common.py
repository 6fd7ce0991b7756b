"""Helpers shared by the service benchmarks (not a benchmark itself).

- `data_dir_from(arguments)`: the MNIST folder from `--data-dir` or EXPLORER_DATA_DIR.
- `bench_env(home, data_dir)`: an environment for child processes (temporary EXPLORER_HOME,
  EXPLORER_OFFLINE=1, a throw-away KERAS_HOME).
- `StreamlitServer`: `streamlit run app.py` on a free port; waits for /_stcore/health; stops it.
- `launch_chromium(playwright)`: Debian's Chromium with the flags the e2e tests use.
- `seed_store(home, data, configs)`: complete runs made with testkit.fakes.fake_result, keyed with
  the real data fingerprint, with artifacts of realistic size (random weights of the real layer
  shapes, random probabilities), so loading them costs what loading a real run costs.
- process readers (psutil: CPU time, descendants, cores busy on the machine and in this
  benchmark's processes: `CpuWindow`; /proc: peak and current RSS, TensorFlow mapped), stats,
  table, JSON out.
- `announce(name)`: prints the cores, the CPU and the load average at the start.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
APP = ROOT / "app.py"
TF_MARKERS = ("_pywrap_tensorflow", "libtensorflow")
LOAD_AT_START = os.getloadavg()

if str(ROOT) not in sys.path:  # so `explorer` and `testkit.fakes` import from a checkout
    sys.path.insert(0, str(ROOT))

# One way to start a server and a browser, shared with the browser tests (re-exported here).
from testkit.server import (  # noqa: E402, F401
    CHROMIUM,
    CHROMIUM_ARGS,
    StreamlitServer,
    free_port,
    launch_chromium,
)

# One way to start a server and a browser, shared with the browser tests.


def add_data_dir_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir",
        default=os.environ.get("EXPLORER_DATA_DIR") or None,
        help="folder with the full MNIST (default: env EXPLORER_DATA_DIR)",
    )


def add_quiet_timeout_argument(parser: argparse.ArgumentParser, default: float, what: str) -> None:
    """--quiet-timeout: how long to wait before each `what` for other work to leave the cores."""
    parser.add_argument(
        "--quiet-timeout",
        type=float,
        default=default,
        help=f"seconds to wait before each {what} for other work to leave the cores ({default:g})",
    )


def data_dir_from(arguments: argparse.Namespace) -> str:
    if not arguments.data_dir:
        sys.exit("Give the full MNIST with --data-dir FOLDER or EXPLORER_DATA_DIR=FOLDER.")
    return str(Path(arguments.data_dir).resolve())


def temporary_home(prefix: str) -> tempfile.TemporaryDirectory:
    return tempfile.TemporaryDirectory(prefix=f"bench-{prefix}-")


def bench_env(home: str | Path, data_dir: str | None) -> dict[str, str]:
    keras_home = Path(home) / "keras"  # never the user's ~/.keras
    keras_home.mkdir(parents=True, exist_ok=True)
    return {
        **os.environ,
        "EXPLORER_HOME": str(home),
        "EXPLORER_DATA_DIR": data_dir or "",
        "EXPLORER_OFFLINE": "1",
        "KERAS_HOME": str(keras_home),
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "PYTHONPATH": str(ROOT),
    }


def realistic_result(config, data, epochs: int | None = None, seed: int = 0):
    """testkit.fakes.fake_result with random weights of the real shapes and random probabilities."""
    import numpy as np

    from explorer.architecture import layer_parameters
    from testkit.fakes import fake_result

    rng = np.random.default_rng(seed)
    history = [
        {
            "epoch": epoch,
            "loss": 1.0 / epoch,
            "accuracy": 0.8 + epoch / 100,
            "test_loss": 1.1 / epoch,
            "test_accuracy": 0.8 + epoch / 110,
            "seconds": 1.0,
        }
        for epoch in range(1, (epochs or config.epochs) + 1)
    ]
    result = fake_result(config, data, history)
    weights = []
    for layer in layer_parameters(config):
        weights.append(rng.normal(0, 0.05, (layer.inputs, layer.units)).astype(np.float32))
        weights.append(rng.normal(0, 0.05, layer.units).astype(np.float32))
    probabilities = rng.dirichlet(np.full(10, 0.3), len(data.y_test)).astype(np.float16)
    return dataclasses.replace(
        result,
        weights=weights,
        probabilities=probabilities,
        predicted_labels=np.argmax(probabilities, axis=1).astype(np.uint8),
        confidence=probabilities.max(axis=1).astype(np.float32),
        train_seconds=10.0,
        samples_per_second=30_000.0,
    )


def seed_store(home: str | Path, data, configs) -> list[str]:
    """Store a complete run of realistic size for each config (testkit.store.seed_store, under
    a lease); returns their run ids."""
    from testkit import store

    def result_for(index, config):
        return realistic_result(config, data, seed=index)

    return store.seed_store(home, data, configs, result_for)


def count_runs(home: str | Path, cache_key: str | None = None) -> dict[str, int]:
    """Runs in the store by status (all keys, or one cache key): testkit.store.count_runs."""
    from testkit import store

    return store.count_runs(home, cache_key)


# -- processes -------------------------------------------------------------------------------


def proc_status_kib(pid: int, field: str) -> int:
    """A field of /proc/PID/status in KiB: VmRSS, or VmHWM, the peak, which psutil does not
    give."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    return 0


def descendants(pid: int) -> list[int]:
    """The process ids of `pid`'s children, their children and so on (none if it is gone)."""
    try:
        return [child.pid for child in psutil.Process(pid).children(recursive=True)]
    except psutil.Error:
        return []


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (its threads included); ProcessLookupError (an
    OSError) if it is gone."""
    try:
        times = psutil.Process(pid).cpu_times()
    except psutil.Error as error:
        raise ProcessLookupError(f"process {pid} is gone") from error
    return times.user + times.system


def machine_busy_seconds() -> float:
    """CPU-seconds spent by every process on the machine so far (all cores), idle and waiting
    for the disk left out.

    The difference over a window, divided by its length, is how many cores were busy: with our
    own processes' CPU time subtracted, what other work took from this benchmark.
    """
    times = psutil.cpu_times()
    return times.user + times.nice + times.system + times.irq + times.softirq + times.steal


def tensorflow_mapped(pid: int) -> bool:
    """Whether TensorFlow's shared libraries are mapped into the process (imported)."""
    maps = Path(f"/proc/{pid}/maps").read_text()
    return any(marker in maps for marker in TF_MARKERS)


class CpuWindow:
    """Cores kept busy during a window: the whole machine, this benchmark's processes, others."""

    def __enter__(self) -> CpuWindow:
        self.wall, self.machine, self.ours = time.monotonic(), *self._read()
        return self

    def __exit__(self, *_) -> None:
        wall, machine, ours = time.monotonic(), *self._read()
        seconds = max(wall - self.wall, 1e-9)
        self.busy = (machine - self.machine) / seconds
        self.mine = (ours - self.ours) / seconds
        self.others = max(0.0, self.busy - self.mine)

    @staticmethod
    def _read() -> tuple[float, float]:
        ours = sum(os.times()[:2])
        for pid in descendants(os.getpid()):
            with contextlib.suppress(OSError, ValueError, IndexError):
                ours += cpu_seconds(pid)
        return machine_busy_seconds(), ours

    def figures(self) -> dict:
        return {"busy_cores": self.busy, "our_cores": self.mine, "other_cores": self.others}


def wait_for_quiet(
    most_other_cores: float = 0.3, window: float = 2.0, timeout: float = 90.0
) -> float:
    """On a shared machine: wait (at most `timeout` s) until other processes keep fewer than
    `most_other_cores` busy over a `window`; returns the last figure (a table can show it)."""
    deadline = time.monotonic() + timeout
    while True:
        with CpuWindow() as cpu:
            time.sleep(window)
        if cpu.others < most_other_cores or time.monotonic() > deadline:
            return cpu.others


# -- stats and output ------------------------------------------------------------------------


def percentile(values: list[float], share: float) -> float:
    """The `share` (0..1) percentile, interpolated between the two nearest values."""
    import numpy as np

    return float(np.percentile(values, share * 100)) if values else float("nan")


def summary(values: list[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "median": statistics.median(values) if values else float("nan"),
        "p95": percentile(values, 0.95),
        "max": max(values) if values else float("nan"),
        "min": min(values) if values else float("nan"),
    }


def cpu_model() -> str:
    """The CPU's name from /proc/cpuinfo (e.g. "AMD EPYC"), or the platform's guess."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def announce(name: str) -> None:
    """Print the machine and its load average at the start (other work may share it)."""
    load = ", ".join(f"{value:.2f}" for value in LOAD_AT_START)
    print(
        f"{name}: {os.cpu_count()} cores, {cpu_model()}; load average at start {load}", flush=True
    )


def machine() -> dict:
    return {
        "cpus": os.cpu_count(),
        "cpu_model": cpu_model(),
        "load_average_at_start": LOAD_AT_START,
        "load_average_at_end": os.getloadavg(),
        "python": platform.python_version(),
        "note": "shared machine: other benchmarks may run at the same time",
    }


def print_table(headers: list[str], rows: list[list]) -> None:
    cells = [[str(h) for h in headers]] + [
        [f"{c:.4f}" if isinstance(c, float) else str(c) for c in row] for row in rows
    ]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    for index, row in enumerate(cells):
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
        if index == 0:
            print("  ".join("-" * width for width in widths))


def write_results(name: str, payload: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    payload = {"benchmark": name, "machine": machine(), **payload}
    path.write_text(json.dumps(payload, indent=2, default=str))
    print(f"\nwrote {path.relative_to(ROOT)}")
    return path
