"""Built-in datasets, generated or shipped inside the package: nothing is downloaded."""

from studio.data.builtin import digits, waves  # noqa: F401
