"""Built-in datasets, generated or shipped inside the package: nothing is downloaded.

Each is declared here by name and loader path; its module (and torch) is imported only
when the dataset is loaded.
"""

from studio.data.registry import register_dataset

register_dataset("digits", "studio.data.builtin.digits:load_digits_split",
                 "Handwritten digits, 1,797 images of 8x8 pixels, 10 classes")
register_dataset("waves", "studio.data.builtin.waves:load_waves",
                 "Noisy waveforms of 4 shapes, 2,000 sequences of 50 steps")
register_dataset("speech_digits", "studio.data.builtin.speech:load_speech",
                 "Spoken digits, 1,280 clips of 8 kHz audio in 64 voices; validation voices are unseen")
register_dataset("dates", "studio.data.builtin.dates:load_dates",
                 "Dates in many human wordings to ISO dates (seq2seq), 12,000 pairs")
register_dataset("shapes", "studio.data.builtin.shapes:load_shapes",
                 "Detection: grey images with circles, squares and triangles, with boxes")
