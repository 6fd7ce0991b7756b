"""Draw → predict: the server's time from a drawing to the probabilities and the chart specs.

Measures, against a temporary run store seeded with complete runs (bench/common.seed_store:
random weights of the real layer shapes, so the arithmetic costs what a trained run's does) of
the tutorial's config (784-400-20-10) and of the largest the page allows (784-1024-512-10):

- strokes: a pen-stroke list (a "7", about 150 points, as a drawing widget reports it) →
  280×280 canvas (`strokes_to_canvas`) → MNIST's 28×28 (`prepare_digit`) → NumPy forward pass
  (`inference.forward`) → `probability_bars` and `activation_strip` specs (`to_dict()`, which
  `st.altair_chart` does too); each step and the total, weights already in memory (the page
  keeps them per run).
- array: the same from a 280×280 RGBA array, what a canvas widget hands the page as an image.
- reading a run's weights from the store (`TrainingService.weights`), paid once per run.
- `python -m explorer predict RUN_ID digit.png --json`, the whole process, against a bare
  `python -c pass`.

Target: < 0.3 s for the total, weights in memory. TensorFlow must not be imported. Needs no MNIST
download: the bundled sample gives the store its data fingerprint.

    python bench/draw_predict.py            # --repeat N (default 50)
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common

HEADERS = ["config", "case", "median_ms", "p95_ms", "max_ms", "target", "met"]
TARGET_SECONDS = 0.3
STEPS = ("canvas", "prepare", "forward", "probability_bars", "activation_strip")
CLI_REPEATS = 5


def seven(shift: float) -> list[list[tuple[float, float]]]:
    """A "7" as two strokes of densely sampled points, shifted a little on each repeat."""

    def line(start, end, count):
        return [
            (start[0] + (end[0] - start[0]) * t + shift, start[1] + (end[1] - start[1]) * t)
            for t in np.linspace(0, 1, count)
        ]

    return [
        line((60, 50), (220, 50), 50) + line((220, 50), (110, 240), 70)[1:],
        line((100, 150), (180, 150), 30),
    ]


def time_steps(weights, activation, canvas_source, repeat: int) -> dict[str, list[float]]:
    """Seconds per step and in total, for `repeat` drawings."""
    from explorer.data.drawing import prepare_digit, strokes_to_canvas
    from explorer.inference import forward
    from explorer.views.charts import activation_strip, probability_bars
    from explorer.views.network import activation_frame

    timings: dict[str, list[float]] = {name: [] for name in (*STEPS, "total")}
    for index in range(repeat):
        shift = (index % 20) - 10.0
        started = time.perf_counter()
        if canvas_source == "strokes":
            canvas = strokes_to_canvas(seven(shift))
        else:  # the widget's RGBA image: strokes drawn beforehand, not timed
            canvas = canvas_source[index % len(canvas_source)]
        drawn = time.perf_counter()
        digit = prepare_digit(canvas)
        prepared = time.perf_counter()
        result = forward(weights, activation, digit)
        computed = time.perf_counter()
        bars = probability_bars(result.probabilities[0]).to_dict()
        barred = time.perf_counter()
        strip = activation_strip(activation_frame(result)).to_dict()
        finished = time.perf_counter()
        assert bars and strip
        marks = (started, drawn, prepared, computed, barred, finished)
        for name, begin, end in zip(STEPS, marks, marks[1:], strict=False):
            timings[name].append(end - begin)
        timings["total"].append(finished - started)
    return timings


def rgba_canvases(count: int) -> list[np.ndarray]:
    from explorer.data.drawing import strokes_to_canvas

    canvases = []
    for index in range(count):
        ink = strokes_to_canvas(seven((index % 20) - 10.0))
        rgba = np.zeros((*ink.shape, 4), dtype=np.uint8)
        rgba[..., :3] = ink[..., None]
        rgba[..., 3] = 255
        canvases.append(rgba)
    return canvases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=50, help="drawings per case (50)")
    arguments = parser.parse_args()

    from explorer.config import TrainingConfig
    from explorer.data.drawing import prepare_digit, strokes_to_canvas
    from explorer.data.sources import SAMPLE_PATH, MnistData, fingerprint_arrays, read_npz
    from explorer.service.service import TrainingService
    from explorer.store.registry import RunStore

    arrays = read_npz(SAMPLE_PATH)
    data = MnistData(
        *arrays, source="sample", location="bundled", fingerprint=fingerprint_arrays(*arrays)
    )
    configs = {
        "tutorial 400-20": TrainingConfig(),
        "large 1024-512": TrainingConfig(hidden1=1024, hidden2=512),
    }
    rows, results = [], {}

    def row(config: str, case: str, seconds: list[float], target: float | None = None) -> None:
        summary = common.summary([value * 1000 for value in seconds])
        met = "" if target is None else summary["median"] < target * 1000
        rows.append(
            [
                config,
                case,
                summary["median"],
                summary["p95"],
                summary["max"],
                "" if target is None else f"< {target * 1000:.0f} ms",
                met,
            ]
        )
        results[f"{config}: {case}"] = summary

    with common.temporary_home("draw-predict") as home:
        run_ids = common.seed_store(home, data, list(configs.values()))
        service = TrainingService(RunStore(home), lambda: data)
        try:
            for (name, config), run_id in zip(configs.items(), run_ids, strict=True):
                reads = []
                for _ in range(5):
                    started = time.perf_counter()
                    weights = service.weights(run_id)
                    reads.append(time.perf_counter() - started)
                time_steps(weights, config.activation, "strokes", 3)  # imports, first calls
                strokes = time_steps(weights, config.activation, "strokes", arguments.repeat)
                images = rgba_canvases(20)
                array = time_steps(weights, config.activation, images, arguments.repeat)
                row(name, "strokes → probabilities + chart specs", strokes["total"], TARGET_SECONDS)
                for step in STEPS:
                    row(name, f"  {step}", strokes[step])
                row(name, "280×280 RGBA array → same", array["total"], TARGET_SECONDS)
                row(name, "read weights from the store (once per run)", reads)
        finally:
            service.shutdown()

        tensorflow = "tensorflow" in sys.modules
        digit_path = Path(home) / "seven.png"
        from PIL import Image

        Image.fromarray(prepare_digit(strokes_to_canvas(seven(0)))).save(digit_path)
        env = common.bench_env(home, None)
        bare, cli = [], []
        for _ in range(CLI_REPEATS):
            started = time.perf_counter()
            subprocess.run([sys.executable, "-c", "pass"], env=env, check=True)
            bare.append(time.perf_counter() - started)
            started = time.perf_counter()
            done = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "explorer",
                    "predict",
                    run_ids[0],
                    str(digit_path),
                    "--json",
                ],
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
                cwd=common.ROOT,
            )
            cli.append(time.perf_counter() - started)
            if done.returncode != 0:
                raise RuntimeError(f"predict failed:\n{done.stderr[-2000:]}")
        row("tutorial 400-20", "baseline: python -c pass", bare)
        row("tutorial 400-20", "python -m explorer predict (whole process)", cli)

    common.print_table(HEADERS, rows)
    print(f"\nTensorFlow imported: {tensorflow} (must be False)")
    common.write_results(
        "draw_predict",
        {
            "repeat": arguments.repeat,
            "target_seconds": TARGET_SECONDS,
            "table": [dict(zip(HEADERS, line, strict=True)) for line in rows],
            "summaries_ms": results,
            "tensorflow_imported": tensorflow,
            "cli_median_s": statistics.median(cli),
        },
    )


if __name__ == "__main__":
    main()
