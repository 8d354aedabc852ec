"""WAV folder: one subfolder per spoken word, WAV files (PCM of 8 to 32 bits, or 32/64-bit
float) read with the standard library.

Each clip is mixed to mono, resampled to ``sample_rate`` (default 8000, what the spoken-digit
template's LogMel expects) and cut or zero-padded at the end to a fixed ``length`` in samples
(or ``seconds``; default: the longest clip, at most 10 s). One sample is a "waveform" input ``[S]`` of floats in [-1, 1].
``split_by`` "file" (default) or "speaker": the speaker is the file name before its first
"_" (as in ``alice_01.wav``), and whole speakers go to validation, so the score measures new
voices. ``lazy`` true/false/"auto". Folders starting with "_" (like Speech Commands'
``_background_noise_``) are not words and are left out. A folder split already into
``train/`` and ``val/`` (each with the word subfolders) keeps that split.
"""

from __future__ import annotations

import functools
import struct
import wave
from pathlib import Path
from typing import TYPE_CHECKING

from studio.data.base import DataError, DatasetInfo, TensorData
from studio.data.importers._common import (
    LAZY,
    LazyData,
    Skipped,
    existing_folder,
    finish,
    labelled_files,
    materialise,
    use_lazy,
)
from studio.data.registry import dataset
from studio.spec.params import Param

if TYPE_CHECKING:  # torch loads when data is read, not when the importer is declared
    import torch

MAX_SECONDS = 10.0


def _riff(path: Path) -> tuple[int, int, int, int, int, int]:
    """(format, channels, bytes per sample, rate, data offset, data bytes) read from the
    chunks directly, for what ``wave`` refuses: float samples (format 3) and the
    "extensible" header many tools write."""
    with open(path, "rb") as f:
        head = f.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            raise DataError("not a RIFF WAVE file")
        fmt = None
        while True:
            chunk = f.read(8)
            if len(chunk) < 8:
                raise DataError("no 'data' chunk" if fmt else "no 'fmt ' chunk")
            cid, size = chunk[:4], struct.unpack("<I", chunk[4:])[0]
            if cid == b"fmt ":
                body = f.read(size + size % 2)
                code, channels, rate, _, _, bits = struct.unpack("<HHIIHH", body[:16])
                if code == 0xFFFE and len(body) >= 26:  # extensible: the real code opens the GUID
                    code = struct.unpack("<H", body[24:26])[0]
                fmt = (code, channels, bits // 8, rate)
            elif cid == b"data":
                if fmt is None:
                    raise DataError("'data' comes before 'fmt '")
                return (*fmt, f.tell(), size)
            else:
                f.seek(size + size % 2, 1)


def _header(path: Path) -> tuple[int, int, int, int, int, int]:
    try:
        with wave.open(str(path), "rb") as w:
            width, channels = w.getsampwidth(), w.getnchannels()
            return 1, channels, width, w.getframerate(), -1, w.getnframes() * width * channels
    except wave.Error:
        try:
            header = _riff(path)
        except struct.error:
            raise DataError("the WAV header is cut short") from None
    except EOFError:
        raise DataError("not a readable WAV file (it ends inside its header)") from None
    except OSError as exc:
        raise DataError(f"not a readable WAV file ({exc.strerror or exc})") from None
    code, channels, width = header[:3]
    if code not in (1, 3) or (code == 3 and width not in (4, 8)) or channels < 1:
        raise DataError(f"WAV format {code} with {width * 8}-bit samples is not supported "
                        "(PCM or 32/64-bit float only)")
    return header


def probe(path: Path) -> tuple[int, int]:
    """(sample rate, frames) from the header; a file that is no usable WAV raises DataError."""
    code, channels, width, rate, _, size = _header(path)
    if code == 1 and width not in (1, 2, 3, 4):
        raise DataError(f"{width * 8}-bit samples are not supported")
    return rate, size // (width * channels)


def read_wav(path: Path) -> tuple[torch.Tensor, int]:
    """Mono float samples in [-1, 1] and the file's sample rate."""
    import torch

    try:
        code, channels, width, rate, offset, size = _header(path)
        if offset < 0:
            with wave.open(str(path), "rb") as w:
                raw = w.readframes(w.getnframes())
        else:
            with open(path, "rb") as f:
                f.seek(offset)
                raw = f.read(size)
    except DataError as exc:
        raise DataError(f"{path}: {exc}") from None
    except (wave.Error, EOFError, OSError) as exc:
        raise DataError(f"{path}: not a readable WAV file ({exc})") from None
    n = len(raw) // (width * channels)
    if n == 0:
        raise DataError(f"{path}: the WAV file holds no samples")
    buf = bytearray(raw[: n * width * channels])
    if code == 3:
        x = torch.frombuffer(buf, dtype=torch.float32 if width == 4 else torch.float64).float().clamp(-1, 1)
    elif width == 1:
        x = (torch.frombuffer(buf, dtype=torch.uint8).float() - 128.0) / 128.0
    elif width == 2:
        x = torch.frombuffer(buf, dtype=torch.int16).float() / 32768.0
    elif width == 4:
        x = torch.frombuffer(buf, dtype=torch.int32).float() / 2147483648.0
    else:  # 24-bit little-endian: widen to int32 with the sign in the top byte
        b = torch.frombuffer(buf, dtype=torch.uint8).view(-1, 3).to(torch.int32)
        v = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
        x = torch.where(v >= 2**23, v - 2**24, v).float() / 2.0**23
    return x.view(n, channels).mean(1), rate


def resample(x: torch.Tensor, rate: int, target: int) -> torch.Tensor:
    import torch

    if rate == target:
        return x
    n = max(1, round(len(x) * target / rate))
    # Bilinear with antialias low-passes when downsampling, which plain linear does not.
    return torch.nn.functional.interpolate(x.view(1, 1, 1, -1), size=(1, n), mode="bilinear",
                                           align_corners=False, antialias=n < len(x)).view(-1)


def fit_length(x: torch.Tensor, length: int) -> torch.Tensor:
    import torch

    if len(x) >= length:
        return x[:length].contiguous()
    return torch.nn.functional.pad(x, (0, length - len(x)))


def load_clip(path: Path, sample_rate: int, length: int) -> tuple[torch.Tensor, int]:
    """One clip as a sample ``[length]`` of this set: mono, resampled to ``sample_rate``, cut
    or zero-padded at the end; and the file's own sample rate."""
    x, rate = read_wav(path)
    return fit_length(resample(x, rate, sample_rate), length), rate


def _decode(item: tuple[Path, int], sample_rate: int, length: int) -> dict[str, torch.Tensor]:
    import torch

    path, label = item
    return {"x": load_clip(path, sample_rate, length)[0], "y": torch.tensor(label, dtype=torch.long)}


@dataset("wav_folder", "WAV recordings in a folder with one subfolder per word", builtin=False, params=(
    Param("path", "folder", None, doc="The folder with one subfolder per word"),
    Param("sample_rate", "int", 8000, 1, 384_000, doc="Samples per second after resampling"),
    Param("length", "int", None, 1, 10**8, optional=True,
          doc="Samples per clip (auto: the longest clip, at most 10 s)"),
    Param("seconds", "float", None, 1e-3, 3600.0, optional=True,
          doc="Seconds per clip, instead of length"),
    Param("split_by", "choice", "file", choices=("file", "speaker"),
          doc="speaker: whole speakers (the file name before '_') go to validation"),
    LAZY))
def load_wav_folder(seed: int = 0, val_split: float = 0.2, path: str | None = None, sample_rate: int = 8000,
                    length: int | None = None, seconds: float | None = None, split_by: str = "file",
                    lazy=None):
    import torch

    root = existing_folder(path, "WAV folder")
    sample_rate = int(sample_rate)
    skipped = Skipped()
    names, files, is_val = labelled_files(root, (".wav",), skipped, ignore_prefix="_")
    items, flags, longest = [], [], 0
    for i, (f, label) in enumerate(files):
        try:
            rate, frames = probe(f)
        except DataError as exc:
            skipped.add(f, str(exc))
            continue
        if frames == 0:
            skipped.add(f, "the WAV file holds no samples")
            continue
        longest = max(longest, round(frames * sample_rate / rate))
        items.append((f, label))
        flags.append(is_val[i] if is_val else False)
    if not items:
        raise DataError(f"{root}: none of the WAV files could be read; first problem: {skipped[0]}")
    if length is None:
        length = round(seconds * sample_rate) if seconds else min(longest, int(MAX_SECONDS * sample_rate))
    length = int(length)
    decode = functools.partial(_decode, sample_rate=sample_rate, length=length)
    if use_lazy(lazy, len(items), length * 4):
        data = LazyData(items, decode)
        kept = items
    else:
        fields, idx = materialise(items, decode, skipped, describe=lambda it: it[0])
        data, kept, flags = TensorData(fields), [items[i] for i in idx], [flags[i] for i in idx]
    groups = None
    speakers = sorted({f.stem.split("_")[0] for f, _ in kept})
    if split_by == "speaker" and not is_val:
        if len(speakers) < 2:
            raise DataError(f"{root}: split_by speaker needs files named <speaker>_<anything>.wav "
                            f"from at least two speakers; found {len(speakers)}")
        sid = {s: i for i, s in enumerate(speakers)}
        groups = torch.tensor([sid[f.stem.split("_")[0]] for f, _ in kept])
    info = DatasetInfo(
        "wav_folder", "classification", f"Spoken words from {root}", classes=names,
        inputs={"x": {"kind": "waveform", "length": length, "sample_rate": sample_rate}},
        extra={"path": str(root), "sample_rate": sample_rate, "speakers": len(speakers)})
    return finish(data, info, skipped, seed, val_split, groups, is_val=flags if is_val else None)
