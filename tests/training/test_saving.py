"""explorer.training.saving: the trained network as a `.keras` file that loads safely."""

from __future__ import annotations

import numpy as np

from explorer.config import TrainingConfig
from explorer.inference import forward
from explorer.training.saving import keras_model_bytes, keras_model_from_weights
from explorer.training.steps import build_model


def load(data: bytes, folder):
    import keras

    path = folder / "model.keras"
    path.write_bytes(data)
    return keras.saving.load_model(path, safe_mode=True)


def test_a_model_round_trips_through_its_bytes(tmp_path, sample_data):
    config = TrainingConfig(hidden1=12, hidden2=5, activation="sigmoid")
    model = build_model(config)
    data = keras_model_bytes(model)
    assert data[:2] == b"PK"  # a zip, as .keras files are
    loaded = load(data, tmp_path)
    for stored, original in zip(loaded.get_weights(), model.get_weights(), strict=True):
        np.testing.assert_array_equal(stored, original)
    pixels = sample_data.x_test[:20].reshape(20, -1).astype(np.float32) / 255
    np.testing.assert_allclose(loaded.predict(pixels, verbose=0), model.predict(pixels, verbose=0))


def test_a_model_is_rebuilt_from_stored_weights(tmp_path, sample_data):
    config = TrainingConfig(hidden1=10, hidden2=0, activation="tanh")
    rng = np.random.default_rng(0)
    weights = [
        rng.normal(0, 0.2, shape).astype(np.float32)
        for shape in ((784, 10), (10,), (10, 10), (10,))
    ]
    loaded = load(keras_model_from_weights(config, weights), tmp_path)
    pixels = sample_data.x_test[:50]
    expected = forward(weights, "tanh", pixels).probabilities
    predicted = loaded.predict(pixels.reshape(50, -1).astype(np.float32) / 255, verbose=0)
    np.testing.assert_allclose(predicted, expected, atol=1e-5)
