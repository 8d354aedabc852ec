"""Spoken digits: real synthesised speech in 64 voices, whole voices held out for validation.

The audio ships in ``files/speech_digits.npz`` (made once by ``make_speech``); samples are
raw 8 kHz waveforms ``[S]`` in [-1, 1], so a model turns them into frames itself (the
``LogMel`` layer), exactly as it would a user's own WAV files.
"""

from __future__ import annotations

from pathlib import Path

import torch

from studio.data.base import DataError, DatasetInfo, DataSplit, TensorData, split_indices

FILE = Path(__file__).resolve().parent / "files" / "speech_digits.npz"
WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
RATE = 8000


def mulaw_decode(codes: torch.Tensor, mu: int = 255) -> torch.Tensor:
    y = codes.float() / mu * 2 - 1
    return torch.sign(y) * ((1 + mu) ** y.abs() - 1) / mu


def _read(path: Path) -> dict:
    import numpy as np

    try:
        with np.load(path, allow_pickle=False) as f:
            return {k: f[k] for k in ("audio", "offsets", "labels", "speakers", "speaker_names")}
    except FileNotFoundError:
        raise DataError(f"{path}: the spoken-digits file is missing; regenerate it with "
                        "`python -m studio.data.builtin.make_speech`") from None
    except (OSError, ValueError, KeyError) as exc:
        raise DataError(f"{path}: cannot read the spoken-digits file ({exc}); regenerate it with "
                        "`python -m studio.data.builtin.make_speech`") from None


def load_speech(seed: int = 0, val_split: float = 0.2, length: int = 8000, speakers: int = 0,
                path: str | None = None) -> DataSplit:
    """``length``: samples per clip (longer clips are cut, shorter ones padded with
    silence); ``speakers``: use only the first N voices (0 = all)."""
    raw = _read(Path(path) if path else FILE)
    audio = mulaw_decode(torch.from_numpy(raw["audio"]))
    offsets = raw["offsets"].tolist()
    labels = torch.from_numpy(raw["labels"]).long()
    spk = torch.from_numpy(raw["speakers"]).long()
    keep = torch.arange(len(labels)) if speakers <= 0 else torch.nonzero(spk < speakers).flatten()
    x = torch.zeros(len(keep), length)
    for row, i in enumerate(keep.tolist()):
        clip = audio[offsets[i]: offsets[i + 1]][:length]
        x[row, : len(clip)] = clip
    data = TensorData({"x": x, "y": labels[keep], "speaker": spk[keep]})
    names = [str(n) for n in raw["speaker_names"]]
    # Speakers built on the same espeak voice variant (in another accent) share a timbre:
    # they go to the same side, so validation voices are new in every way.
    timbre = {v: i for i, v in enumerate(sorted({n.split("+")[1].split()[0] for n in names}))}
    groups = torch.tensor([timbre[names[s].split("+")[1].split()[0]] for s in spk[keep].tolist()])
    tr, va = split_indices(len(data), val_split, seed, groups=groups)
    held_out = sorted({names[s] for s in spk[keep][va].tolist()})
    info = DatasetInfo(
        "speech_digits", "classification",
        f"Spoken digits zero to nine, {len(data)} clips from {len(set(spk[keep].tolist()))} synthetic voices; "
        f"validation voices ({len(held_out)}) never occur in training",
        classes=list(WORDS),
        inputs={"x": {"kind": "waveform", "length": length, "sample_rate": RATE}},
        extra={"sample_rate": RATE, "val_speakers": held_out})
    return DataSplit(data.subset(tr), data.subset(va), info)
