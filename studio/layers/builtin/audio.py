"""Audio front ends: raw waveforms in, frames a recurrent or convolutional layer reads out."""

from __future__ import annotations

from studio.spec.errors import ShapeError
from studio.spec.shapes import TensorShape
from studio.layers.builtin._rules import expect_float
from studio.layers.spec import Cost, Ctor, LayerSpec, Param


def _frames(samples, hop: int):
    # Like torch.stft with center=True: n_fft // 2 padding on both sides gives S // hop + 1 frames.
    return samples // hop + 1 if isinstance(samples, int) else "T"


def _logmel_infer(p, ins):
    x = ins["in"]
    expect_float("LogMel", x)
    if x.rank != 2:
        raise ShapeError(f"LogMel expects raw audio [B, S], got {x}: use an Input of kind 'waveform'")
    if p["f_max"] and p["f_max"] <= p["f_min"]:
        raise ShapeError(f"LogMel: f_max {p['f_max']:g} must be above f_min {p['f_min']:g}")
    if (p["f_max"] or p["sample_rate"] / 2) > p["sample_rate"] / 2:
        raise ShapeError(f"LogMel: f_max {p['f_max']:g} Hz is above half the sample rate {p['sample_rate']} Hz")
    if p["n_mels"] > p["n_fft"] // 2 + 1:
        raise ShapeError(f"LogMel: {p['n_mels']} mel bands need n_fft of at least {2 * (p['n_mels'] - 1)}")
    return {"out": TensorShape.of(x.dims[0], _frames(x.dims[1], p["hop_length"]), p["n_mels"], axes="BTF")}


def _logmel_cost(p, ins, outs):
    frames = outs["out"].dims[1] if isinstance(outs["out"].dims[1], int) else 1
    bins = p["n_fft"] // 2 + 1
    dft = 2 * (2 * bins) * p["n_fft"]  # the DFT as a convolution: 2F rows of n_fft taps
    return Cost(0, frames * (dft + 2 * bins * p["n_mels"]))


def _logmel_build(p, ins):
    from studio.layers.builtin._audio_modules import LogMel

    return Ctor(LogMel, dict(p))


LOGMEL = LayerSpec(
    id="LogMel", title="Log-mel spectrogram", category="Audio",
    doc="Turns raw audio [B, S] into log-mel frames [B, T, mels] (a short-time Fourier transform); "
        "T = S / hop + 1. Feed it from an Input of kind 'waveform'.",
    params=(
        Param("sample_rate", "int", 8000, 1000, 192_000, doc="Samples per second of the audio"),
        Param("n_fft", "int", 256, 16, 8192, doc="FFT window in samples (256 = 32 ms at 8 kHz)"),
        Param("hop_length", "int", 80, 1, 8192, doc="Samples between frames (80 = 10 ms at 8 kHz)"),
        Param("n_mels", "int", 40, 1, 512, doc="Mel bands per frame"),
        Param("f_min", "float", 20.0, 0.0, 96_000.0, doc="Lowest frequency (Hz)"),
        Param("f_max", "float", 0.0, 0.0, 96_000.0, doc="Highest frequency (Hz; 0 = half the sample rate)"),
        Param("normalize", "bool", True, doc="Subtract each band's mean over the clip (robust to gain)"),
        Param("top_db", "float", 80.0, 0.0, 200.0,
              doc="Floor at this many dB below the clip's loudest value, so silence looks like faint noise "
                  "(0 = off)"),
    ),
    infer=_logmel_infer, cost=_logmel_cost, build=_logmel_build,
    export_notes="ONNX Conv (the windowed DFT basis as a strided convolution), MatMul, Log: both "
                 "exporters take it, and the audio length stays dynamic.",
    legacy_ids=("MelSpectrogram",),
)


def register(registry) -> None:
    registry.add(LOGMEL)
