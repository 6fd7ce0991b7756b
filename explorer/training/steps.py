"""The Keras model and the compiled training and scoring steps behind `explorer.training.loop`.

    model = build_model(config)                  # the tutorial's Sequential MLP for `config`
    steps = WARM.get(model, build_optimizer(config), x_train, y_train, batch_size, "float32",
                     data_key)                   # new graphs, or the warm ones of these shapes
    loss_sum, correct = steps.train(order, first_step, count)  # `count` SGD steps in one call
    loss, probabilities = steps.score(x_test, y_test, batch_size=2000)  # mean loss, (n, 10)
    steps.finish()                               # the trained weights into `model`
    WARM.put(steps)                              # keep the graphs for the next training

Why not `model.fit`: for this small network a Keras step costs about twice its arithmetic
(measured in bench/training.py). Here a whole group of steps runs inside one TensorFlow call:
batches are gathered from pixels held once as uint8 inside TensorFlow (no per-epoch copy of the
data, a quarter of the memory of float32), and the loss is the fused softmax cross-entropy on the
logits (one kernel instead of softmax, clip, log and their gradients).

Plain SGD (the tutorial's optimizer) takes a hand-written step: the backward pass is written out
(one kernel per product and per activation gradient, no tape) and each weight is updated in one
pass by `ResourceApplyGradientDescent`, the arithmetic of Keras' SGD (w -= rate * gradient).
Adam, RMSprop and SGD with extras take the tape and the Keras optimizer's `apply`, so they behave
exactly as in `fit`. Both loops are a `tf.while_loop` traced without AutoGraph: converting the
Python source cost 0.2-0.4 s per training, more than a whole small training. A long-lived
trainer keeps the graphs of the last few plain-SGD shapes (`WARM`), so a later training of the
same shapes skips tracing, graph optimisation and kernel creation.

With precision "bfloat16", the hidden layers' matrix products (nearly all the arithmetic) take
bfloat16 inputs, which CPUs with AMX multiply about 4× faster (a whole training gains less:
see README, Speed); products
are summed in float32, the weights stay float32, and the output layer (10 units, where the loss
is decided) stays float32 (Keras' "mixed_bfloat16" idea). Pixels 0..255
are exact in bfloat16, so the 1/255 scaling is applied after the product.
"""

from __future__ import annotations

import threading

import numpy as np

from explorer.architecture import INPUT_SIZE, NUM_CLASSES, layer_parameters
from explorer.config import TrainingConfig

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
    """Graph functions for one model shape and one training set: build once per training, or
    take them from `WARM` to reuse them across trainings of the same shapes."""

    def __init__(
        self,
        model,
        optimizer,
        x_train: np.ndarray,
        y_train: np.ndarray,
        batch_size: int,
        precision: str = "float32",
        *,
        resident=None,
        tape: bool = False,
    ) -> None:
        """`resident`: the training data as `hold_training_data` returns it, if already held.
        `tape=True` takes the tape and the Keras optimizer even for plain SGD (tests compare
        the two steps)."""
        import tensorflow as tf

        self._tf = tf
        dense = [layer for layer in model.layers if layer.weights]
        self._activations = [_activation_name(layer) for layer in dense]
        self._activation_functions = [layer.activation for layer in dense]
        self.hand_written = (
            not tape
            and _plain_sgd(optimizer)
            and all(name in _ACTIVATION_GRADIENTS for name in self._activations[:-1])
        )
        if self.hand_written:
            # Own copies of the weights and the rate, so that a later training of the same
            # shapes can reuse these graphs (`bind`); `finish` writes the trained weights back.
            self._variables = [
                tf.Variable(variable, trainable=False) for variable in model.trainable_variables
            ]
            self._rate = tf.Variable(optimizer.learning_rate, trainable=False)
        else:
            self._variables = list(model.trainable_variables)
            optimizer.build(self._variables)
        self._layers = list(zip(self._variables[0::2], self._variables[1::2], strict=True))
        # Flattened uint8 pixels (47 MB for MNIST, cast per batch inside the graph) and labels.
        self._pixels, self._labels = resident or hold_training_data(x_train, y_train)
        self._batch_size = batch_size
        self._product_dtype = tf.bfloat16 if precision == "bfloat16" else tf.float32
        self._model, self._optimizer, self._steps_done = model, optimizer, 0
        self.warm_key = None
        self.run = tf.function(self._run, reduce_retracing=True, autograph=False)
        self.score_batch = tf.function(self._score_batch, reduce_retracing=True, autograph=False)

    def bind(self, model, optimizer) -> CompiledSteps:
        """Train `model` with these graphs (same layer shapes, activations, batch size, precision
        and data; hand-written SGD only): its initial weights and learning rate are copied in."""
        for own, initial in zip(self._variables, model.trainable_variables, strict=True):
            own.assign(initial)
        self._rate.assign(optimizer.learning_rate)
        self._model, self._optimizer, self._steps_done = model, optimizer, 0
        return self

    def train(self, order, first_step: int, count: int):
        """Steps first_step .. first_step + count - 1 of the epoch whose shuffled indices are
        `order`; returns the summed loss and the number of digits right before each update."""
        tf = self._tf
        result = self.run(order, tf.constant(first_step), tf.constant(count))
        self._steps_done += count
        return result

    def finish(self) -> None:
        """Put the trained weights (and the optimizer's step count) into the Keras model."""
        if self.hand_written:
            for variable, trained in zip(
                self._model.trainable_variables, self._variables, strict=True
            ):
                variable.assign(trained)
            self._optimizer.iterations.assign(self._steps_done)

    def _activate(self, index, values):
        known = _ACTIVATIONS.get(self._activations[index])
        return known(self._tf, values) if known else self._activation_functions[index](values)

    def _forward(self, pixels):
        """Logits, the output of each hidden layer, and the pixels as the first product took
        them, for uint8 pixels of shape (n, 784)."""
        tf = self._tf
        (kernel, bias), *middle, (last_kernel, last_bias) = self._layers
        inputs = tf.cast(pixels, self._product_dtype)
        hidden = [self._activate(0, self._product(inputs, kernel) * (1.0 / PIXEL_SCALE) + bias)]
        for index, (kernel, bias) in enumerate(middle, start=1):
            hidden.append(self._activate(index, self._product(hidden[-1], kernel) + bias))
        return tf.matmul(hidden[-1], last_kernel) + last_bias, hidden, inputs

    def _product(self, left, right, **transpose):
        """A hidden layer's matrix product in the run's arithmetic, summed and returned as
        float32 (`transpose`: tf.matmul's transpose_a / transpose_b)."""
        tf = self._tf
        dtype = self._product_dtype
        product = tf.matmul(tf.cast(left, dtype), tf.cast(right, dtype), **transpose)
        return tf.cast(product, tf.float32)

    def _run(self, order, first_step, count):
        """Train `count` steps on batches order[step * batch : (step + 1) * batch].

        Returns the sum of the batch losses weighted by batch size, and the number of
        training digits the network got right before each step's update (Keras' running
        metrics, computed the same way).
        """
        tf = self._tf
        step_function = self._sgd_step if self.hand_written else self._keras_step
        size = self._batch_size

        def body(step, loss_sum, correct):
            chosen = order[step * size : (step + 1) * size]
            labels = tf.gather(self._labels, chosen)
            losses, logits = step_function(tf.gather(self._pixels, chosen), labels)
            hits = tf.equal(tf.argmax(logits, axis=1, output_type=tf.int32), labels)
            return (
                step + 1,
                loss_sum + tf.reduce_sum(losses),
                correct + tf.reduce_sum(tf.cast(hits, tf.int32)),
            )

        _, loss_sum, correct = tf.while_loop(
            lambda step, *_: step < first_step + count,
            body,
            (first_step, tf.constant(0.0), tf.constant(0, tf.int32)),
        )
        return loss_sum, correct

    def _keras_step(self, pixels, labels):
        """One step with the tape and the Keras optimizer (any optimizer)."""
        tf = self._tf
        with tf.GradientTape() as tape:
            logits, _, _ = self._forward(pixels)
            losses = tf.nn.sparse_softmax_cross_entropy_with_logits(labels, logits)
            loss = tf.reduce_mean(losses)
        gradients = tape.gradient(loss, self._variables)
        self._optimizer.apply(gradients, self._variables)
        return losses, logits

    def _sgd_step(self, pixels, labels):
        """One plain SGD step with the backward pass written out: the tape's gradients in fewer
        kernels, and one pass per weight for the update."""
        tf = self._tf
        logits, hidden, inputs = self._forward(pixels)
        losses, backprop = tf.raw_ops.SparseSoftmaxCrossEntropyWithLogits(
            features=logits, labels=labels
        )
        # d(mean loss)/d(logits), then back through the layers, last to second.
        delta = backprop / tf.cast(tf.shape(labels)[0], tf.float32)
        gradients = []
        last = len(self._layers) - 1
        for index in range(last, 0, -1):
            kernel, bias = self._layers[index]
            below = hidden[index - 1]
            gradients.append((bias, tf.reduce_sum(delta, axis=0)))
            if index == last:  # the output layer's products stay float32, as in `_forward`
                gradients.append((kernel, tf.matmul(below, delta, transpose_a=True)))
                delta = tf.matmul(delta, kernel, transpose_b=True)
            else:
                gradients.append((kernel, self._product(below, delta, transpose_a=True)))
                delta = self._product(delta, kernel, transpose_b=True)
            delta = _ACTIVATION_GRADIENTS[self._activations[index - 1]](tf, below, delta)
        # The first layer's product saw pixels 0..255: its gradient carries the 1/255.
        kernel, bias = self._layers[0]
        gradients.append((bias, tf.reduce_sum(delta, axis=0)))
        gradients.append(
            (kernel, self._product(inputs, delta * (1.0 / PIXEL_SCALE), transpose_a=True))
        )
        rate = self._rate.read_value()
        for variable, gradient in gradients:
            tf.raw_ops.ResourceApplyGradientDescent(var=variable.handle, alpha=rate, delta=gradient)
        return losses, logits

    def _score_batch(self, pixels, labels):
        """Loss sum and probabilities for a batch of uint8 pixels, without training."""
        tf = self._tf
        logits, _, _ = self._forward(pixels)
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


def hold_training_data(x_train: np.ndarray, y_train: np.ndarray):
    """The training pixels, flattened uint8, and the labels as int32, held inside TensorFlow."""
    import tensorflow as tf

    return tf.constant(x_train.reshape(len(x_train), -1)), tf.constant(y_train.astype(np.int32))


class WarmSteps:
    """What a long-lived trainer process keeps between trainings: the training pixels inside
    TensorFlow, and the graphs of the latest few plain-SGD shapes, so that a training of shapes
    seen before skips holding the data, tracing, graph optimisation and kernel creation.

        steps = WARM.get(model, optimizer, x_train, y_train, batch_size, precision, data_key)
        ...                        # train with `steps`, then steps.finish()
        WARM.put(steps)            # after a training that ended normally

    `data_key` names the training data (its fingerprint); None means "do not keep": a subset
    of the training set, which changes with the seed.
    """

    def __init__(self, size: int = 4) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._data_key = None
        self._resident = None
        self._graphs: dict = {}  # key -> CompiledSteps, oldest first

    def get(
        self, model, optimizer, x_train, y_train, batch_size, precision, data_key
    ) -> CompiledSteps:
        """CompiledSteps for `model`: the warm ones of these shapes if there are, else new."""
        if data_key is None:
            return CompiledSteps(model, optimizer, x_train, y_train, batch_size, precision)
        key = (data_key, _architecture(model), batch_size, precision)
        with self._lock:
            if self._data_key != data_key or self._resident is None:
                self._data_key, self._graphs = data_key, {}
                self._resident = hold_training_data(x_train, y_train)
            resident = self._resident
            # Taken out while in use, so that two trainings never share one.
            cached = self._graphs.pop(key, None) if _plain_sgd(optimizer) else None
        if cached is not None:
            return cached.bind(model, optimizer)
        steps = CompiledSteps(
            model, optimizer, x_train, y_train, batch_size, precision, resident=resident
        )
        steps.warm_key = key
        return steps

    def put(self, steps: CompiledSteps) -> None:
        """Keep `steps` for a later training (plain SGD only: other optimizers hold state)."""
        key = steps.warm_key
        if not steps.hand_written or key is None:
            return
        with self._lock:
            if key[0] == self._data_key:
                self._graphs[key] = steps
                while len(self._graphs) > self._size:
                    del self._graphs[next(iter(self._graphs))]

    def clear(self) -> None:
        """Forget the data and every graph (tests; a trainer about to exit)."""
        with self._lock:
            self._data_key, self._resident, self._graphs = None, None, {}


WARM = WarmSteps()


def _architecture(model) -> tuple:
    return tuple(
        (tuple(layer.kernel.shape), _activation_name(layer))
        for layer in model.layers
        if layer.weights
    )


def _plain_sgd(optimizer) -> bool:
    """Keras SGD without momentum, weight decay, clipping, EMA, accumulation or a schedule:
    what the hand-written step computes exactly."""
    import keras

    return (
        type(optimizer) is keras.optimizers.SGD
        and not optimizer.momentum
        and not optimizer.nesterov
        and optimizer.weight_decay is None
        and optimizer.clipnorm is None
        and optimizer.clipvalue is None
        and optimizer.global_clipnorm is None
        and not optimizer.use_ema
        and optimizer.gradient_accumulation_steps is None
        and optimizer.loss_scale_factor is None
        and isinstance(optimizer.learning_rate, keras.Variable)
        and not isinstance(
            getattr(optimizer, "_learning_rate", None),
            keras.optimizers.schedules.LearningRateSchedule,
        )
    )


def _activation_name(layer) -> str:
    return getattr(layer.activation, "__name__", "")


_ACTIVATIONS = {
    "relu": lambda tf, x: tf.nn.relu(x),
    "tanh": lambda tf, x: tf.nn.tanh(x),
    "sigmoid": lambda tf, x: tf.nn.sigmoid(x),
}

# The gradient of each hidden activation, from its output and the gradient of that output.
_ACTIVATION_GRADIENTS = {
    "relu": lambda tf, y, dy: tf.raw_ops.ReluGrad(gradients=dy, features=y),
    "tanh": lambda tf, y, dy: tf.raw_ops.TanhGrad(y=y, dy=dy),
    "sigmoid": lambda tf, y, dy: tf.raw_ops.SigmoidGrad(y=y, dy=dy),
}
