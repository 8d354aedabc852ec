"""Importers: a person's own data, read from files named in the project's ``data`` section.

Each module registers one dataset name (``builtin=False``: it needs a ``path``):
``image_folder``, ``csv``, ``npz``, ``wav_folder``, ``text_pairs``, ``yolo``. A file that
cannot be used raises :class:`~studio.data.base.DataError` naming it; a bad item inside an
otherwise good set is left out and listed in ``DataSplit.skipped`` as ``file[:line]: reason``.
Sets larger than ``_common.MEMORY_LIMIT_MB`` once decoded are read lazily from disk.
"""

from studio.data.registry import register_dataset

# Declared by loader path: an importer's module (and torch) loads when it is used.
register_dataset("image_folder", "studio.data.importers.image_folder:load_image_folder",
                 "Images in a folder with one subfolder per class (PNG, JPEG, ...)", builtin=False)
register_dataset("csv", "studio.data.importers.csv_table:load_csv",
                 "A CSV table: feature columns and a label column (classes or numbers)", builtin=False)
register_dataset("npz", "studio.data.importers.numpy_file:load_npz",
                 "A NumPy .npz file with arrays x (inputs) and y (classes or values)", builtin=False)
register_dataset("wav_folder", "studio.data.importers.wav_folder:load_wav_folder",
                 "WAV recordings in a folder with one subfolder per word", builtin=False)
register_dataset("text_pairs", "studio.data.importers.text_pairs:load_text_pairs",
                 "Source<TAB>target lines (TSV) for sequence-to-sequence, character level", builtin=False)
register_dataset("yolo", "studio.data.importers.yolo:load_yolo",
                 "Detection images with YOLO label files (images/ and labels/)", builtin=False)
