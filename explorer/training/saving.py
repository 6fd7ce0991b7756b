"""The trained network as a Keras file (`.keras`), so a run can be taken home and loaded with
`keras.saving.load_model("model.keras")`.

    data = keras_model_bytes(model)                   # the end of every training (loop.train)
    data = keras_model_from_weights(config, weights)  # a run stored before models were kept

The file holds the architecture and the weights, not the optimizer (the model is never
compiled: the loop computes its own loss), and nothing that needs custom code, so it loads with
`safe_mode=True`. Its input is 784 floats 0..1 per digit (MNIST's uint8 pixels / 255, row by
row); its output the ten softmax probabilities. TensorFlow is imported inside the functions.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from explorer.config import TrainingConfig

MODEL_FILE = "model.keras"


def keras_model_bytes(model) -> bytes:
    """`model` saved in Keras' own format, as the bytes of a `.keras` file.

    Keras writes only to a path, so this goes through a temporary folder (about 10 ms and
    1.3 MB for the tutorial's 322,230 parameters).
    """
    with tempfile.TemporaryDirectory(prefix="explorer-model-") as folder:
        path = Path(folder) / MODEL_FILE
        model.save(path)
        return path.read_bytes()


def keras_model_from_weights(config: TrainingConfig, weights: list[np.ndarray]) -> bytes:
    """The `.keras` file of `config`'s network holding stored `weights` (kernel and bias of each
    layer, as `RunStore.load_weights` gives them). Loads TensorFlow: for the command line."""
    from explorer.training.runtime import load_tensorflow
    from explorer.training.steps import build_model

    load_tensorflow()
    model = build_model(config)
    model.set_weights([np.asarray(array) for array in weights])
    return keras_model_bytes(model)
