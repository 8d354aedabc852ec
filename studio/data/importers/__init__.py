"""Importers: a person's own data, read from files named in the project's ``data`` section.

Each module registers one dataset name (``builtin=False``: it needs a ``path``):
``image_folder``, ``csv``, ``npz``, ``wav_folder``, ``text_pairs``, ``yolo``. A file that
cannot be used raises :class:`~studio.data.base.DataError` naming it; a bad item inside an
otherwise good set is left out and listed in ``DataSplit.skipped`` as ``file[:line]: reason``.
Sets larger than ``_common.MEMORY_LIMIT_MB`` once decoded are read lazily from disk.
"""

from studio.data.importers import csv_table, image_folder, numpy_file, text_pairs, wav_folder, yolo  # noqa: F401
