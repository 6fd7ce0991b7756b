"""MNIST: where it comes from (`explorer.data.sources`) and how its files are read and checked
(`explorer.data.files`). NumPy only."""
