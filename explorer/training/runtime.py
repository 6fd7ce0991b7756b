"""Loading TensorFlow for training: its threads, its seed, its quiet start.

    load_tensorflow()                 # import TensorFlow and Keras, threads set (a trainer at rest)
    configure_tensorflow(seed=0)      # ... and seeded, deterministic kernels: before each training
    training_threads(workers=2)       # the threads each of two trainers gets on this machine

Importing this module is cheap: TensorFlow is imported inside the functions. `loop` (training)
and `saving` (the `.keras` file) both use it.
"""

from __future__ import annotations

import os

from explorer.config import cpu_kind


def training_threads(workers: int = 1) -> int:
    """TensorFlow threads for each of `workers` trainers on this machine:
    EXPLORER_TRAINING_THREADS, else 1 on CPUs with AMX, else the cores shared out.

    With AMX, bfloat16 products are so fast that one thread beats two for this network
    (bench/training.py: 0.32 s per epoch against 0.45 s; its steps are too small to split with
    profit), and it leaves the other core to the pages. Without AMX the products dominate and
    two cores win, in bfloat16 on AVX512-BF16 too (bench/README.md, section 1).
    """
    chosen = os.environ.get("EXPLORER_TRAINING_THREADS", "").strip()
    if chosen.isdigit() and int(chosen) > 0:
        return int(chosen)
    if cpu_kind() == "amx":
        return 1
    return max(1, (os.cpu_count() or 1) // max(1, workers))


def load_tensorflow() -> None:
    """Import TensorFlow and Keras and set their threads (a trainer does this while idle, so
    the first training does not pay for it)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # hide TensorFlow's start-up chatter
    import keras  # noqa: F401
    import tensorflow as tf

    # Every training traces its own steps; TensorFlow's "retracing" warning about that is noise
    # in a teacher's terminal.
    tf.get_logger().setLevel("ERROR")

    try:
        threads = training_threads()
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    except RuntimeError:  # TensorFlow already ran in this process: its pools are fixed
        pass


def configure_tensorflow(seed: int) -> None:
    """Seed every generator and make kernels deterministic: same config and seed, same result."""
    load_tensorflow()
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
