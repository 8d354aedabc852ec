"""What the data panel shows about a loaded split, computed without Qt: a few samples,
class balance, split sizes, spectrograms, decoded text."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # torch loads with the first preview, not with the editor
    import torch

from studio.data.base import DataSplit, TensorData


def take(part: Any, n: int) -> dict[str, torch.Tensor]:
    """The first ``n`` samples of a split half as a batch (lazy sets decode only these)."""
    import torch

    n = min(n, len(part))
    if n == 0:
        return {}
    if isinstance(part, TensorData):
        return {k: v[:n] for k, v in part.fields.items()}
    items = [part[i] for i in range(n)]
    return {k: torch.stack([it[k] for it in items]) for k in items[0]}


def _labels(part: Any, field: str) -> torch.Tensor | None:
    import torch

    from studio.data.importers._common import labels_of

    y = labels_of(part, field)
    if y is None and not isinstance(part, TensorData) and len(part) <= 5000:
        y = torch.stack([part[i][field] for i in range(len(part))]) if len(part) else None
    return y


def class_balance(split: DataSplit, field: str = "y") -> list[tuple[str, int, int]] | None:
    """(class name, training count, validation count) per class; for detection, boxes per
    class. None when the targets are not classes (regression, seq2seq)."""
    import torch

    classes = split.info.classes
    if not classes or split.info.task in ("seq2seq", "regression"):
        return None
    boxes_field = split.info.extra.get("boxes_field")
    counts = []
    for part in (split.train, split.val):
        if len(part) == 0:
            counts.append([0] * len(classes))
            continue
        y = _labels(part, boxes_field or field)
        if y is None:
            return None
        y = y[..., 0].long() if boxes_field else y.long()
        y = y[(y >= 0) & (y < len(classes))].flatten()
        counts.append(torch.bincount(y, minlength=len(classes)).tolist())
    return [(name, counts[0][i], counts[1][i]) for i, name in enumerate(classes)]


def split_sizes(split: DataSplit) -> dict[str, int]:
    return {"train": len(split.train), "val": len(split.val), "skipped": len(split.skipped)}


def summary(split: DataSplit) -> str:
    s = split_sizes(split)
    parts = [f"{s['train']:,} training", f"{s['val']:,} validation"]
    if split.info.classes and split.info.task != "seq2seq":
        parts.append(f"{len(split.info.classes)} classes")
    if s["skipped"]:
        parts.append(f"{s['skipped']} skipped")
    if split.info.extra.get("lazy"):
        parts.append("read from disk as needed")
    return " · ".join(parts)


def spectrogram(wave: torch.Tensor, n_fft: int = 256) -> torch.Tensor:
    """Log-magnitude spectrogram [frequencies, frames] of one waveform, in dB."""
    import torch

    wave = wave.float().flatten()
    n_fft = max(16, min(n_fft, len(wave)))
    spec = torch.stft(wave, n_fft, hop_length=n_fft // 4, window=torch.hann_window(n_fft),
                      return_complex=True).abs()
    return 20 * torch.log10(spec.clamp_min(1e-5))


def text_pairs(split: DataSplit, n: int = 20) -> list[tuple[str, str]]:
    from studio.data.tokens import CharVocab

    vocab = split.info.extra.get("vocab") or split.info.classes or []
    batch = take(split.train, n)
    target = split.info.extra.get("target", "tgt_out")
    if "src" not in batch or target not in batch:
        return []
    chars = CharVocab(vocab)
    return [(chars.decode(s), chars.decode(t)) for s, t in zip(batch["src"], batch[target])]


def input_params(spec: dict[str, Any]) -> dict[str, Any]:
    """The Input node parameters that describe one sample of a field (``DatasetInfo.inputs``),
    as the field's input kind declares them (:mod:`studio.spec.inputs`)."""
    from studio.spec.inputs import sample_params

    return sample_params(str(spec.get("kind")), spec)
