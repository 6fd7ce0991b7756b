"""The first training after a server start against a warm one, as a teacher meets them.

    EXPLORER_DATA_DIR=FOLDER python bench/first_training.py      # --rounds 3 --delays 0,5

Each round starts a fresh server process (`bench/first_training.py --server`), which makes its
service as the page does (`create_service`, a fresh EXPLORER_HOME) and calls `service.warm()`,
as the first page view does. After `delay` seconds (0: the teacher clicks Train at once, the
worst case; 5: after a look at the page) it submits the tutorial's config and times submit →
result: the **first** training. Then, in the same server, the same config with another seed
(**warm**: what every later Train of the tutorial's shapes costs) and a config of other shapes
(**other shapes**: a slider moved, graphs traced anew in the warm trainer). Printed per delay:
the medians, the ratio first / warm (target ≤ 1.3), and the page's estimate for the first
training at the moment it was asked (it includes any trainer start still to pay) against what it
took. Each training is timed from submit to the stored result, as the page sees it.
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

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common


def timed_training(service, config) -> float:
    from explorer.service.jobs import Requester

    began = time.monotonic()
    submission = service.submit(config, Requester("teacher", "teacher"))
    progress = service.wait(submission.run_id, 600)
    if progress is None or progress.status != "complete":
        raise RuntimeError(f"the training of {config.label()} did not complete: {progress}")
    return time.monotonic() - began


def server_round(data_dir: str, delay: float) -> dict:
    """One fresh server: page view, Train after `delay` s, then two more trainings."""
    from explorer.config import TrainingConfig
    from explorer.service.service import create_service

    service = create_service(data_dir, os.environ["EXPLORER_HOME"])
    try:
        service.warm()  # the first page view
        time.sleep(delay)  # the teacher reads the page
        config = TrainingConfig()
        estimate = service.estimate(config)
        first = timed_training(service, config)
        warm = timed_training(service, TrainingConfig(seed=1))
        other = timed_training(service, TrainingConfig(hidden1=128, seed=1))
    finally:
        service.shutdown()
    return {
        "delay": delay,
        "first_seconds": first,
        "warm_seconds": warm,
        "other_shapes_seconds": other,
        "estimate_at_first_click": estimate,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    common.add_data_dir_argument(parser)
    parser.add_argument("--rounds", type=int, default=3, help="fresh servers per delay (3)")
    parser.add_argument("--delays", default="0,5", help="seconds from page view to Train (0,5)")
    parser.add_argument("--server", type=float, help=argparse.SUPPRESS)  # one round, this delay
    arguments = parser.parse_args()
    data_dir = common.data_dir_from(arguments)
    if arguments.server is not None:
        print(json.dumps(server_round(data_dir, arguments.server)))
        return
    common.announce("first training")
    delays = [float(delay) for delay in arguments.delays.split(",")]
    results: dict[float, list[dict]] = {delay: [] for delay in delays}
    for round_index in range(arguments.rounds):
        for delay in delays if round_index % 2 == 0 else delays[::-1]:
            common.wait_for_quiet(timeout=30)
            with common.temporary_home("first-training") as home:
                env = common.bench_env(home, data_dir)
                env.pop("EXPLORER_TRAINING_THREADS", None)  # the page's default
                command = [sys.executable, __file__, "--server", str(delay)]
                done = subprocess.run(
                    command, env=env, capture_output=True, text=True, check=True, timeout=900
                )
            result = json.loads(done.stdout.strip().splitlines()[-1])
            results[delay].append(result)
            print(
                f"round {round_index}, Train {delay:g} s after the page view: first "
                f"{result['first_seconds']:.2f} s (estimate {result['estimate_at_first_click']:.1f}"
                f" s), warm {result['warm_seconds']:.2f} s, other shapes "
                f"{result['other_shapes_seconds']:.2f} s",
                flush=True,
            )
    rows = []
    for delay, runs in results.items():
        first = statistics.median(r["first_seconds"] for r in runs)
        warm = statistics.median(r["warm_seconds"] for r in runs)
        rows.append(
            [
                f"Train {delay:g} s after the page view",
                first,
                warm,
                statistics.median(r["other_shapes_seconds"] for r in runs),
                first / warm,
                statistics.median(r["estimate_at_first_click"] for r in runs),
            ]
        )
    print()
    headers = ["median of rounds", "first (s)", "warm (s)", "other shapes (s)", "first / warm"]
    common.print_table([*headers, "estimate at the click (s)"], rows)
    common.write_results("first_training", {"rounds": results})


if __name__ == "__main__":
    main()
