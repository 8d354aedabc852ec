"""Layer Studio: design a neural network as a graph of layers, train it, export it.

The package is split so that everything except :mod:`studio.ui` runs without Qt,
and the graph model runs without torch.

From Python (a notebook, a script), :mod:`studio.api` makes the calls the ``studio``
command and the app make::

    import studio

    project = studio.load("cnn_digits")     # a project file, or a template's name
    project                                 # in Jupyter: the graph as SVG
    model = project.model()                 # the torch.nn.Module training uses
    data = project.data()                   # train and validation splits (tensors by field)
    result = project.train(epochs=2)        # trains as `studio train` does, keeps the run
    report = project.evaluate(result)       # accuracy, confusion matrix... as `studio evaluate`
    model = project.model(weights=result)   # the run's weights
    project.export("onnx", "model.onnx", weights=result)

``studio.load``, ``studio.Project`` and ``studio.templates`` are loaded on first use,
so ``import studio`` stays light (no torch).
"""

__version__ = "0.1.0"

__all__ = ["Project", "load", "templates"]


def __getattr__(name: str):
    # Loaded by name on first use, as studio.training's exports are: the modules that read
    # __version__ from here do not depend on the API.
    if name in __all__:
        import importlib

        return getattr(importlib.import_module("studio.api"), name)
    raise AttributeError(f"module 'studio' has no attribute {name!r}")


def __dir__():
    return sorted([*globals(), *__all__])
