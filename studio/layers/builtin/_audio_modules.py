"""Torch modules behind the audio layers (imported by their builders only).

The code generator copies these classes into exported ``.py`` files, so they depend on
torch alone.
"""

from __future__ import annotations

import math

import torch
from torch import nn


def mel_filterbank(sample_rate: int, n_fft: int, n_mels: int, f_min: float, f_max: float) -> torch.Tensor:
    """Triangular filters on the HTK mel scale, ``[n_fft // 2 + 1, n_mels]``."""
    def mel(f):
        return 2595.0 * math.log10(1.0 + f / 700.0)

    points = torch.linspace(mel(f_min), mel(f_max), n_mels + 2)
    hz = 700.0 * (10 ** (points / 2595.0) - 1.0)
    freqs = torch.linspace(0, sample_rate / 2, n_fft // 2 + 1)
    lo, mid, hi = hz[:-2], hz[1:-1], hz[2:]
    up = (freqs[:, None] - lo) / (mid - lo)
    down = (hi - freqs[:, None]) / (hi - mid)
    return torch.clamp(torch.minimum(up, down), min=0.0)


def dft_basis(n_fft: int) -> torch.Tensor:
    """Windowed cosine and sine rows of the real DFT, ``[2 * (n_fft // 2 + 1), 1, n_fft]``."""
    k = torch.arange(n_fft, dtype=torch.float64)
    f = torch.arange(n_fft // 2 + 1, dtype=torch.float64)[:, None]
    angle = 2 * math.pi * f * k / n_fft
    window = torch.hann_window(n_fft, dtype=torch.float64)
    return torch.cat([torch.cos(angle) * window, -torch.sin(angle) * window]).float()[:, None, :]


class LogMel(nn.Module):
    """Raw audio ``[B, S]`` to log-mel frames ``[B, T, n_mels]``.

    The short-time Fourier transform is a strided convolution with the windowed DFT basis:
    the same numbers as ``torch.stft(center=True)`` (within 1e-5), in real arithmetic, so
    both ONNX exporters take it and the sequence length stays free.

    Values below the clip's loudest by more than ``top_db`` decibels are raised to that
    floor, so silence and faint noise look alike (digital zeros would otherwise stand out).
    With ``normalize``, each mel band's mean over the utterance is subtracted (cepstral
    mean normalisation), which removes the recording's overall colour and loudness.
    """

    def __init__(self, sample_rate: int = 8000, n_fft: int = 256, hop_length: int = 80, n_mels: int = 40,
                 f_min: float = 20.0, f_max: float = 0.0, normalize: bool = True, top_db: float = 80.0) -> None:
        super().__init__()
        self.n_fft = n_fft
        self.hop_length = hop_length
        self.normalize = normalize
        self.floor = top_db * math.log(10.0) / 10.0  # decibels to natural-log units of power
        top = f_max if f_max > 0 else sample_rate / 2
        # Not persistent: derived from the parameters, so they stay out of saved weights.
        self.register_buffer("basis", dft_basis(n_fft), persistent=False)
        self.register_buffer("filters", mel_filterbank(sample_rate, n_fft, n_mels, f_min, top), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        half = self.n_fft // 2
        frames = nn.functional.conv1d(nn.functional.pad(x[:, None, :], (half, half)), self.basis,
                                      stride=self.hop_length)  # [B, 2F, T]
        bins = half + 1
        power = frames[:, :bins] ** 2 + frames[:, bins:] ** 2  # [B, F, T]
        out = torch.log(power.transpose(1, 2) @ self.filters + 1e-10)
        if self.floor > 0:
            top = out.amax(dim=(1, 2), keepdim=True)
            out = torch.maximum(out, top - self.floor)
        if self.normalize:
            out = out - out.mean(dim=1, keepdim=True)
        return out
