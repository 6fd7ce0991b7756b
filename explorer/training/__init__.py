"""Training a configuration: the only code that imports TensorFlow, and only inside functions.

`explorer.training.loop.train` trains and scores one config; `explorer.training.steps` holds the
Keras model and the compiled steps it runs. Importing either module does not load TensorFlow.
"""
