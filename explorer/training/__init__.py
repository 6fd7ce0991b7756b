"""Training a configuration: the only code that imports TensorFlow, and only inside functions.

`explorer.training.loop.train` trains and scores one config; `explorer.training.steps` holds the
Keras model and the compiled steps it runs; `explorer.training.saving` writes the trained model as
a `.keras` file; `explorer.training.runtime` loads TensorFlow (threads, seed) for both. Importing
any of them does not load TensorFlow.
"""
