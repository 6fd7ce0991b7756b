"""What crafted input costs the server: the largest canvas value it accepts, values it refuses,
and a huge picture given to `predict`. Needs no MNIST.

- canvas: `checked_strokes` → `strokes_to_canvas` → `prepare_digit` for the largest value the
  server accepts (100 strokes, 2,000 points in all, each segment crossing the canvas: the most
  ink a value can ask for), and `checked_strokes` alone for refused values (one stroke of
  200,000 points, 10,000 levels deep, NaN). Median and worst of `--repeat` tries. Target: the
  worst accepted value under 100 ms.
- predict: `image_to_mnist` on a 12,000 × 12,000 PNG (140 KB on disk), in a child process that
  reports its peak memory (ru_maxrss) grown during the call.

    python bench/crafted_input.py            # --repeat N (default 20)
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from explorer.data.drawing import (  # noqa: E402
    CANVAS_SIDE,
    MAX_POINTS,
    MAX_STROKES,
    checked_strokes,
    prepare_digit,
    strokes_to_canvas,
)
from testkit.pictures import PEAK_MEMORY_OF_READING, write_blank_png  # noqa: E402


def largest_accepted() -> list:
    """MAX_STROKES strokes of MAX_POINTS points in all, zigzagging corner to corner."""
    generator = np.random.default_rng(0)
    per_stroke = MAX_POINTS // MAX_STROKES
    return [generator.random((per_stroke, 2)).round(4).tolist() for _ in range(MAX_STROKES)]


def deep(depth: int) -> list:
    value: list = [0.5, 0.5]
    for _ in range(depth):
        value = [value]
    return value


def timed(function, repeat: int) -> tuple[float, float]:
    """Median and worst CPU milliseconds (the server's cost; other processes' load aside)."""
    times = []
    for _ in range(repeat):
        started = time.thread_time()
        function()
        times.append(time.thread_time() - started)
    return statistics.median(times) * 1000, max(times) * 1000


def accept_and_draw(value: list) -> None:
    strokes = checked_strokes(value)
    scaled = [[(x * CANVAS_SIDE, y * CANVAS_SIDE) for x, y in stroke] for stroke in strokes]
    prepare_digit(strokes_to_canvas(scaled))


def refuse(value: object) -> None:
    try:
        checked_strokes(value)
    except ValueError:
        return
    raise AssertionError("accepted a value it should refuse")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    repeat = parser.parse_args().repeat
    print(f"load average at start: {os.getloadavg()[0]:.2f}")
    rows = [
        ("largest accepted (100 strokes, 2,000 points)", largest_accepted(), accept_and_draw),
        ("refused: one stroke of 200,000 points", [[[0.5, 0.5]] * 200_000], refuse),
        ("refused: 10,000 levels deep", deep(10_000), refuse),
        ("refused: NaN", [[[0.5, float("nan")]]], refuse),
        ("refused: [[[-5, null]]]", [[[-5, None]]], refuse),
    ]
    print(f"{'canvas value':48} {'median CPU ms':>14} {'worst CPU ms':>13}")
    for name, value, function in rows:
        median, worst = timed(lambda value=value, function=function: function(value), repeat)
        print(f"{name:48} {median:14.2f} {worst:13.2f}")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "huge.png"
        write_blank_png(path, 12_000, 12_000)
        started = time.perf_counter()
        child = subprocess.run(
            [sys.executable, "-c", PEAK_MEMORY_OF_READING, str(path)],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        )
        elapsed = time.perf_counter() - started
        message, grown = child.stdout.strip().rsplit("\n", 1)
        print(f"predict, 12,000 × 12,000 PNG ({path.stat().st_size // 1000} KB on disk):")
        print(f"  peak memory grown during the call: {grown} MB; child process {elapsed:.2f} s")
        print(f"  {message}")


if __name__ == "__main__":
    main()
