"""Built-in datasets, generated or shipped inside the package: nothing is downloaded.

Each is declared here by name and loader path; its module (and torch) is imported only
when the dataset is loaded.
"""

from studio.data.registry import register_dataset
from studio.spec.params import Param

register_dataset("digits", "studio.data.builtin.digits:load_digits_split",
                 "Handwritten digits, 1,797 images of 8x8 pixels, 10 classes", params=(
                     Param("classes", "ints", None, 0, 9, optional=True,
                           doc="Only these digits, numbered from 0 in this order (auto: all ten)"),
                     Param("per_class", "int", 0, 0, 1000, doc="Training samples per class (0: all)")))
register_dataset("waves", "studio.data.builtin.waves:load_waves",
                 "Noisy waveforms of 4 shapes, 2,000 sequences of 50 steps", params=(
                     Param("n", "int", 2000, 1, 1_000_000, doc="Sequences"),
                     Param("length", "int", 50, 2, 100_000, doc="Steps per sequence"),
                     Param("noise", "float", 0.3, 0.0, 100.0, doc="Standard deviation of the added noise")))
register_dataset("speech_digits", "studio.data.builtin.speech:load_speech",
                 "Spoken digits, 1,280 clips of 8 kHz audio in 64 voices; validation voices are unseen", params=(
                     Param("length", "int", 8000, 1, 10**7, doc="Samples per clip: longer clips are cut, "
                           "shorter ones padded with silence"),
                     Param("speakers", "int", 0, 0, 10_000, doc="Only the first N voices (0: all)"),
                     Param("path", "file", None, optional=True, choices=(".npz",),
                           doc="Another file made by make_speech (auto: the one built in)")))
register_dataset("dates", "studio.data.builtin.dates:load_dates",
                 "Dates in many human wordings to ISO dates (seq2seq), 12,000 pairs", params=(
                     Param("n", "int", 12000, 10, 200_000, doc="Pairs"),))
register_dataset("shapes", "studio.data.builtin.shapes:load_shapes",
                 "Detection: grey images with circles, squares and triangles, with boxes", params=(
                     Param("n", "int", 4000, 1, 1_000_000, doc="Images"),
                     Param("size", "int", 48, 16, 1024, doc="Height and width in pixels")))
