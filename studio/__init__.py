"""Layer Studio: design a neural network as a graph of layers, train it, export it.

The package is split so that everything except :mod:`studio.ui` runs without Qt,
and the graph model runs without torch.
"""

__version__ = "0.1.0"
