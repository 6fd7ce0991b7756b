"""The Keras model and the compiled training and scoring steps behind `explorer.training.loop`.

    model = build_model(config)                  # the tutorial's Sequential MLP for `config`
    steps = CompiledSteps(model, build_optimizer(config), x_train, y_train, batch_size, "float32")
    loss_sum, correct = steps.run(order, first_step, count)   # `count` SGD steps in one call
    loss, probabilities = steps.score(x_test, y_test, batch_size=2000)  # mean loss, (n, 10)

Why not `model.fit`: for this small network a Keras step costs about twice its arithmetic
(measured in bench/training.py). Here a whole group of steps runs inside one TensorFlow call:
batches are gathered from pixels held once as uint8 inside TensorFlow (no per-epoch copy of the
data, a quarter of the memory of float32), the loss is the fused softmax cross-entropy on the
logits (one kernel instead of softmax, clip, log and their gradients), and the Keras optimizer
updates the Keras model's own weights, so Adam and RMSprop behave exactly as in `fit`.

With precision "bfloat16", the first layer's matrix products (most of the arithmetic) take
bfloat16 inputs, which CPUs with AMX or AVX512-BF16 multiply several times faster; products
are summed in float32 and the weights stay float32 (Keras' "mixed_bfloat16" idea). Pixels 0..255
are exact in bfloat16, so the 1/255 scaling is applied after the product.
"""

from __future__ import annotations

import numpy as np

from explorer.config import TrainingConfig
from explorer.model import INPUT_SIZE, NUM_CLASSES, layer_parameters

PIXEL_SCALE = 255.0


def build_model(config: TrainingConfig):
    """The tutorial's Sequential MLP for `config` (784 inputs, the hidden layers, 10 softmax).

    Not compiled: the loop below computes the loss itself, and `build_optimizer` makes the
    optimizer that updates the weights.
    """
    import keras

    layers = [keras.Input(shape=(INPUT_SIZE,), name="pixels")]
    for index, layer in enumerate(layer_parameters(config)[:-1], start=1):
        layers.append(
            keras.layers.Dense(layer.units, activation=layer.activation, name=f"hidden{index}")
        )
    layers.append(keras.layers.Dense(NUM_CLASSES, activation="softmax", name="output"))
    return keras.Sequential(layers, name="mnist_mlp")


def build_optimizer(config: TrainingConfig):
    """Keras' optimizer for `config` (SGD, Adam or RMSprop at its learning rate)."""
    import keras

    optimizers = {
        "sgd": keras.optimizers.SGD,
        "adam": keras.optimizers.Adam,
        "rmsprop": keras.optimizers.RMSprop,
    }
    return optimizers[config.optimizer](learning_rate=config.learning_rate)


class CompiledSteps:
    """Graph functions for one model and one training set; build once per training."""

    def __init__(
        self,
        model,
        optimizer,
        x_train: np.ndarray,
        y_train: np.ndarray,
        batch_size: int,
        precision: str = "float32",
    ) -> None:
        import tensorflow as tf

        self._tf = tf
        self._dense = [layer for layer in model.layers if layer.weights]
        self._variables = model.trainable_variables
        self._optimizer = optimizer
        self._optimizer.build(self._variables)
        # Flattened uint8 pixels: 47 MB for MNIST, scaled to [0, 1] per batch inside the graph.
        self._pixels = tf.constant(x_train.reshape(len(x_train), -1))
        self._labels = tf.constant(y_train.astype(np.int32))
        self._batch_size = batch_size
        self._first_dtype = tf.bfloat16 if precision == "bfloat16" else tf.float32
        self.run = tf.function(self._run, reduce_retracing=True)
        self.score_batch = tf.function(self._score_batch, reduce_retracing=True)

    def _logits(self, pixels):
        """The network's output before softmax, for uint8 pixels of shape (n, 784)."""
        tf = self._tf
        first, *middle, last = self._dense
        dtype = self._first_dtype
        product = tf.matmul(tf.cast(pixels, dtype), tf.cast(first.kernel, dtype))
        values = first.activation(tf.cast(product, tf.float32) * (1.0 / PIXEL_SCALE) + first.bias)
        for layer in middle:
            values = layer.activation(tf.matmul(values, layer.kernel) + layer.bias)
        return tf.matmul(values, last.kernel) + last.bias

    def _run(self, order, first_step, count):
        """Train `count` steps on batches order[step * batch : (step + 1) * batch].

        Returns the sum of the batch losses weighted by batch size, and the number of
        training digits the network got right before each step's update (Keras' running
        metrics, computed the same way).
        """
        tf = self._tf
        loss_sum = tf.constant(0.0)
        correct = tf.constant(0, tf.int32)
        for step in tf.range(first_step, first_step + count):
            chosen = order[step * self._batch_size : (step + 1) * self._batch_size]
            labels = tf.gather(self._labels, chosen)
            with tf.GradientTape() as tape:
                logits = self._logits(tf.gather(self._pixels, chosen))
                losses = tf.nn.sparse_softmax_cross_entropy_with_logits(labels, logits)
                loss = tf.reduce_mean(losses)
            gradients = tape.gradient(loss, self._variables)
            self._optimizer.apply(gradients, self._variables)
            loss_sum += tf.reduce_sum(losses)
            hits = tf.equal(tf.argmax(logits, axis=1, output_type=tf.int32), labels)
            correct += tf.reduce_sum(tf.cast(hits, tf.int32))
        return loss_sum, correct

    def _score_batch(self, pixels, labels):
        """Loss sum and probabilities for a batch of uint8 pixels, without training."""
        tf = self._tf
        logits = self._logits(pixels)
        losses = tf.nn.sparse_softmax_cross_entropy_with_logits(labels, logits)
        return tf.reduce_sum(losses), tf.nn.softmax(logits)

    def score(self, x: np.ndarray, y: np.ndarray, batch_size: int) -> tuple[float, np.ndarray]:
        """Mean loss and the (n, 10) float32 probabilities for a whole set, in large batches."""
        pixels = x.reshape(len(x), -1)
        labels = y.astype(np.int32)
        loss_sum, parts = 0.0, []
        for start in range(0, len(x), batch_size):
            batch_loss, probabilities = self.score_batch(
                pixels[start : start + batch_size], labels[start : start + batch_size]
            )
            loss_sum += float(batch_loss)
            parts.append(probabilities.numpy())
        return loss_sum / max(len(x), 1), np.concatenate(parts)
