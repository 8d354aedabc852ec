"""Importers: a person's own data, read from files named in the project's ``data`` section.

Each registers one dataset name (``builtin=False``: it needs a ``path``) with the options it
takes, declared as Params: validation, ``studio data --set`` and the data panel's form read
them. A file that cannot be used raises :class:`~studio.data.base.DataError` naming it; a bad
item inside an otherwise good set is left out and listed in ``DataSplit.skipped`` as
``file[:line]: reason``. Sets larger than ``_common.MEMORY_LIMIT_MB`` once decoded are read
lazily from disk.
"""

from studio.data.registry import register_dataset
from studio.spec.params import Param

SIZE = Param("size", "ints", None, 1, 8192, optional=True, count=2,
             doc="[height, width] in pixels (auto: the first image's size)")
GRAYSCALE = Param("grayscale", "bool", None, optional=True,
                  doc="One channel instead of three (auto: when every image is single-channel)")
LAZY = Param("lazy", "bool", None, optional=True,
             doc="Read from disk as needed (auto: when the decoded set passes the memory limit)")

# Declared by loader path: an importer's module (and torch) loads when it is used.
register_dataset("image_folder", "studio.data.importers.image_folder:load_image_folder",
                 "Images in a folder with one subfolder per class (PNG, JPEG, ...)", builtin=False, params=(
                     Param("path", "folder", None, doc="The folder with one subfolder per class"),
                     SIZE, GRAYSCALE, LAZY))
register_dataset("csv", "studio.data.importers.csv_table:load_csv",
                 "A CSV table: feature columns and a label column (classes or numbers)", builtin=False, params=(
                     Param("path", "file", None, choices=(".csv", ".tsv", ".txt"), doc="The CSV file"),
                     Param("label", "key", -1, doc="The label column: its name, or its position from 0 "
                           "(-1: the last)"),
                     Param("features", "strs", None, optional=True,
                           doc="The feature columns by name (auto: every other column)"),
                     Param("header", "bool", None, optional=True,
                           doc="The first row names the columns (auto: when it holds words above numbers)"),
                     Param("delimiter", "str", None, optional=True, doc="The cell separator (auto: from the file)"),
                     Param("task", "choice", "auto", choices=("auto", "classification", "regression"),
                           doc="auto: a label that is a word, or a whole number with few values, is a class"),
                     Param("standardize", "bool", True, doc="Scale features by the training rows' mean and "
                           "standard deviation")))
register_dataset("npz", "studio.data.importers.numpy_file:load_npz",
                 "A NumPy .npz file with arrays x (inputs) and y (classes or values)", builtin=False, params=(
                     Param("path", "file", None, choices=(".npz",), doc="The NumPy archive"),
                     Param("x_key", "str", "x", doc="The array of inputs"),
                     Param("y_key", "str", "y", doc="The array of targets"),
                     Param("kind", "choice", "auto", choices=("auto", "image", "sequence", "vector"),
                           doc="What one sample is (auto: [N, F] a vector, [N, H, W] or [N, C, H, W] an image)"),
                     Param("channels_last", "bool", False, doc="Images stored as [N, H, W, C]")))
register_dataset("wav_folder", "studio.data.importers.wav_folder:load_wav_folder",
                 "WAV recordings in a folder with one subfolder per word", builtin=False, params=(
                     Param("path", "folder", None, doc="The folder with one subfolder per word"),
                     Param("sample_rate", "int", 8000, 1, 384_000, doc="Samples per second after resampling"),
                     Param("length", "int", None, 1, 10**8, optional=True,
                           doc="Samples per clip (auto: the longest clip, at most 10 s)"),
                     Param("seconds", "float", None, 1e-3, 3600.0, optional=True,
                           doc="Seconds per clip, instead of length"),
                     Param("split_by", "choice", "file", choices=("file", "speaker"),
                           doc="speaker: whole speakers (the file name before '_') go to validation"),
                     LAZY))
register_dataset("text_pairs", "studio.data.importers.text_pairs:load_text_pairs",
                 "Source<TAB>target lines (TSV) for sequence-to-sequence, character level", builtin=False, params=(
                     Param("path", "file", None, choices=(".tsv", ".txt"), doc="The source<TAB>target file"),
                     Param("max_length", "int", 200, 1, 100_000, doc="Pairs with a longer side are skipped"),
                     Param("lowercase", "bool", False, doc="Lower-case both sides")))
register_dataset("yolo", "studio.data.importers.yolo:load_yolo",
                 "Detection images with YOLO label files (images/ and labels/)", builtin=False, params=(
                     Param("path", "folder", None, doc="The folder with images/ and labels/"),
                     SIZE, GRAYSCALE,
                     Param("max_boxes", "int", None, 1, 10_000, optional=True,
                           doc="Boxes kept per image (auto: the most in one image)"),
                     Param("classes", "strs", None, optional=True,
                           doc="Class names (auto: from data.yaml or classes.txt, else 0, 1, ...)"),
                     LAZY))
