"""Build the shipped templates through the Graph API and save them.

    python -m studio.tasks.templates [NAME ...]

Templates are data files, but writing them from code keeps every parameter complete,
every wire checked by the graph model and the layout computed, so a change here
regenerates a file that ``studio check`` accepts.
"""

from __future__ import annotations

import sys
from typing import Any, Callable

from studio.core.graph import Graph
from studio.core.layout import apply_layout
from studio.core.project import Project
from studio.core.settings import validate_training
from studio.resources import resources_dir


class _Builder:
    def __init__(self) -> None:
        self.graph = Graph()

    def add(self, node_id: str, type_id: str, **params: Any) -> str:
        self.graph.add_node(type_id, params, node_id=node_id)
        return node_id

    def chain(self, *steps: str) -> None:
        """Wire ``a.out`` -> ``b.in`` down a list; a step may name the output port it
        passes on, e.g. ``"lstm.last"`` (its input is still ``in``)."""
        for a, b in zip(steps, steps[1:]):
            src, src_port = a.split(".") if "." in a else (a, "out")
            self.graph.connect(src, src_port, b.split(".")[0], "in")

    def wire(self, src: str, dst: str) -> None:
        """One wire between explicit ports, e.g. ``wire("encoder.h", "decoder.h0")``."""
        self.graph.connect(*src.split("."), *dst.split("."))

    def project(self, name: str, description: str, data: dict, **training: Any) -> Project:
        apply_layout(self.graph)
        return Project(self.graph, name, description, data, validate_training(training))


def cnn_digits() -> Project:
    b = _Builder()
    b.add("image", "Input", kind="image", field="x", channels=1, height=8, width=8)
    b.add("conv1", "Conv2d", out_channels=32, kernel_size=3, padding=1)
    b.add("bn1", "BatchNorm2d")
    b.add("relu1", "ReLU")
    b.add("conv2", "Conv2d", out_channels=32, kernel_size=3, padding=1)
    b.add("relu2", "ReLU")
    b.add("pool1", "MaxPool2d", kernel_size=2)
    b.add("conv3", "Conv2d", out_channels=64, kernel_size=3, padding=1)
    b.add("bn2", "BatchNorm2d")
    b.add("relu3", "ReLU")
    b.add("pool2", "MaxPool2d", kernel_size=2)
    b.add("flatten", "Flatten")
    b.add("dropout", "Dropout", p=0.3)
    b.add("classifier", "Linear", out_features=10)
    b.add("loss", "CrossEntropyLoss", target="y")
    b.chain("image", "conv1", "bn1", "relu1", "conv2", "relu2", "pool1", "conv3", "bn2", "relu3", "pool2",
            "flatten", "dropout", "classifier", "loss")
    return b.project(
        "CNN digits classifier",
        "A small convolutional network that classifies 8x8 handwritten digits (scikit-learn's digits "
        "set, shipped offline); it reaches about 99 % validation accuracy in seconds. Try next: remove a "
        "BatchNorm and watch the curves, widen conv3, or import your own image folder in the data panel.",
        {"dataset": "digits"},
        optimizer="adam", learning_rate=0.003, schedule="cosine", epochs=15, batch_size=64)


def lstm_sequence() -> Project:
    b = _Builder()
    b.add("signal", "Input", kind="sequence", field="x", length=50, features=1)
    b.add("lstm", "LSTM", hidden_size=64)
    b.add("classifier", "Linear", out_features=4)
    b.add("loss", "CrossEntropyLoss", target="y")
    b.chain("signal", "lstm.last", "classifier", "loss")
    return b.project(
        "LSTM sequence classifier",
        "An LSTM reads noisy waveforms step by step and names their shape (sine, square, triangle, "
        "sawtooth) from its last step. Try next: wire lstm.seq through a pooling layer instead of "
        "lstm.last, or swap the LSTM for a GRU and compare speed.",
        {"dataset": "waves"}, optimizer="adam", learning_rate=0.005, schedule="cosine", epochs=40, batch_size=32,
        grad_clip=1.0)


def lstm_speech() -> Project:
    b = _Builder()
    b.add("audio", "Input", kind="waveform", field="x", length=8000)
    b.add("logmel", "LogMel", sample_rate=8000, n_fft=256, hop_length=128, n_mels=32)
    # Dropping log-mel values (and between the LSTM's layers) keeps the network from leaning
    # on details of the training voices: the whispering voice, held out, needs it most.
    b.add("frame_dropout", "Dropout", p=0.3)
    b.add("lstm", "LSTM", hidden_size=64, num_layers=2, bidirectional=True, dropout=0.3)
    b.add("classifier", "Linear", out_features=10)
    b.add("loss", "CrossEntropyLoss", target="y", label_smoothing=0.1)
    b.chain("audio", "logmel", "frame_dropout", "lstm.last", "classifier", "loss")
    return b.project(
        "LSTM spoken-digit recogniser",
        "Raw 8 kHz audio of the words zero to nine becomes log-mel frames inside the network (LogMel, a "
        "short-time Fourier transform), and an LSTM classifies the frame sequence; Dropout on the frames "
        "keeps it from memorising the training voices. Validation uses voices the model never heard. Try "
        "next: make the LSTM one-directional and watch the unseen voices suffer, change n_mels, or import "
        "a folder of your own WAV recordings (one subfolder per word).",
        {"dataset": "speech_digits"},
        optimizer="adam", learning_rate=0.003, schedule="onecycle", epochs=40, batch_size=32, grad_clip=1.0)


def seq2seq_dates() -> Project:
    from studio.data.builtin.dates import PAD, SRC_LEN, VOCAB

    b = _Builder()
    b.add("source", "Input", kind="tokens", field="src", length=SRC_LEN)
    b.add("source_embed", "Embedding", num_embeddings=len(VOCAB), embedding_dim=32, padding_idx=PAD)
    b.add("encoder", "LSTM", hidden_size=128)
    b.add("target_in", "Input", kind="tokens", field="tgt_in", length=0)
    b.add("target_embed", "Embedding", num_embeddings=len(VOCAB), embedding_dim=32, padding_idx=PAD)
    b.add("decoder", "LSTM", hidden_size=128)
    b.add("next_char", "Linear", out_features=len(VOCAB))
    b.add("loss", "CrossEntropyLoss", target="tgt_out", ignore_index=PAD, metric="greedy_exact_match")
    b.chain("source", "source_embed", "encoder")
    b.chain("target_in", "target_embed", "decoder.seq", "next_char", "loss")
    b.wire("encoder.h", "decoder.h0")
    b.wire("encoder.c", "decoder.c0")
    return b.project(
        "Seq2seq date normaliser",
        "An encoder LSTM reads a date written the human way ('3rd of March 1999', '03/03/99') one "
        "character at a time; its final state (h, c wires) starts a decoder LSTM that writes the ISO "
        "date. Training feeds the decoder the true previous character (teacher forcing); the metric "
        "decodes greedily from its own guesses, on dates never seen in training. Try next: remove the "
        "c wire and see how much the cell state carries, or make the encoder bidirectional (its state "
        "then no longer fits the decoder: the checker tells you why).",
        {"dataset": "dates"},
        optimizer="adam", learning_rate=0.006, schedule="onecycle", epochs=20, batch_size=64, grad_clip=1.0)


def shapes_detector() -> Project:
    from studio.data.builtin.shapes import CLASSES

    b = _Builder()
    b.add("image", "Input", kind="image", field="x", channels=1, height=48, width=48)
    steps = ["image"]
    for i, width in enumerate((16, 32, 64), start=1):
        b.add(f"conv{i}", "Conv2d", out_channels=width, kernel_size=3, padding=1)
        b.add(f"bn{i}", "BatchNorm2d")
        b.add(f"relu{i}", "ReLU")
        b.add(f"pool{i}", "MaxPool2d", kernel_size=2)
        steps += [f"conv{i}", f"bn{i}", f"relu{i}", f"pool{i}"]
    b.add("conv4", "Conv2d", out_channels=64, kernel_size=3, padding=1)
    b.add("bn4", "BatchNorm2d")
    b.add("relu4", "ReLU")
    b.add("head", "Conv2d", out_channels=5 + len(CLASSES), kernel_size=1, padding=0)
    b.add("loss", "DetectionLoss", target="boxes", classes=len(CLASSES))
    b.add("boxes", "DecodeBoxes", classes=len(CLASSES))
    b.add("detections", "Output")
    b.chain(*steps, "conv4", "bn4", "relu4", "head", "loss")
    b.chain("head", "boxes", "detections")
    return b.project(
        "Shapes detector",
        "A single-shot grid detector (YOLO-style): convolutions shrink a 48x48 image to a 6x6 grid and "
        "a 1x1 Conv2d predicts, per cell, whether an object's centre lies there, its box and its class "
        "(circle, square or triangle). DetectionLoss trains it; validation decodes the boxes, applies "
        "non-maximum suppression and reports mAP@0.5. DecodeBoxes feeds the Output used for inference "
        "and export. Try next: drop pool3 for a 12x12 grid, or import your own YOLO-labelled images.",
        {"dataset": "shapes"},
        optimizer="adam", learning_rate=0.003, schedule="onecycle", epochs=12, batch_size=32)


TEMPLATES: dict[str, Callable[[], Project]] = {
    "cnn_digits": cnn_digits,
    "lstm_sequence": lstm_sequence,
    "lstm_speech": lstm_speech,
    "seq2seq_dates": seq2seq_dates,
    "shapes_detector": shapes_detector,
}


def main(argv: list[str] | None = None) -> int:
    names = (argv if argv is not None else sys.argv[1:]) or list(TEMPLATES)
    for name in names:
        path = TEMPLATES[name]().save(resources_dir() / "templates" / f"{name}.json")
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
