"""Built-in datasets, generated or shipped inside the package: nothing is downloaded."""

from studio.data.builtin import dates, digits, shapes, speech, waves  # noqa: F401

# The built-in tasks' metrics (seq2seq, detection) come with their datasets.
import studio.tasks.metrics  # noqa: E402,F401
