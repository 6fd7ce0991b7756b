"""MNIST: where it comes from (`explorer.data.sources`) and how its files are read and checked
(`explorer.data.files` for IDX files, `explorer.data.npz` for `mnist.npz`), NumPy only; and a
drawing or photo prepared as MNIST's digits were (`explorer.data.drawing`), NumPy and Pillow."""
