"""Text pairs for sequence-to-sequence: a TSV file, one ``source<TAB>target`` pair a line.

Characters become token ids in one vocabulary shared by both sides. Reserved ids:
**0 = padding**, 1 = BOS (start of target), 2 = EOS (end of target), 3 = unknown; the
characters follow, sorted. Fields:

- ``src``     [N, Ls] the source characters, padded with 0 on the left, so the text ends
  where an encoder stops and its final state has just read the last character;
- ``tgt_in``  [N, Lt + 1] BOS then the target (what the decoder reads: teacher forcing);
- ``tgt_out`` [N, Lt + 1] the target then EOS (what it must predict), padded with 0.

Set the cross-entropy loss's ``ignore_index`` to 0 so padding is not scored. Options:
``path``; ``max_length`` (pairs with a longer side are skipped; default 200);
``lowercase`` (default false). The vocabulary is ``info.extra["vocab"]`` (also ``info.classes``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from studio.data.base import DataError, DatasetInfo, TensorData
from studio.data.importers._common import Skipped, existing_file, finish
from studio.data.registry import dataset
from studio.data.tokens import BOS, EOS, PAD, UNK, CharVocab
from studio.spec.params import Param

if TYPE_CHECKING:  # torch loads when data is read, not when the importer is declared
    import torch


def _pad(rows: list[list[int]], length: int, left: bool = False) -> torch.Tensor:
    import torch

    out = torch.full((len(rows), length), PAD, dtype=torch.long)
    for i, r in enumerate(rows):
        start = length - len(r) if left else 0
        out[i, start: start + len(r)] = torch.tensor(r, dtype=torch.long)
    return out


@dataset("text_pairs", "Source<TAB>target lines (TSV) for sequence-to-sequence, character level", builtin=False, params=(
    Param("path", "file", None, choices=(".tsv", ".txt"), doc="The source<TAB>target file"),
    Param("max_length", "int", 200, 1, 100_000, doc="Pairs with a longer side are skipped"),
    Param("lowercase", "bool", False, doc="Lower-case both sides")))
def load_text_pairs(seed: int = 0, val_split: float = 0.2, path: str | None = None, max_length: int = 200,
                    lowercase: bool = False):
    path = existing_file(path, "text-pairs file")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not UTF-8 text (byte {exc.start}); expected source<TAB>target lines") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot be read: {exc.strerror or exc}") from None
    skipped = Skipped()
    pairs = []
    for line_no, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split("\t")
        if len(parts) != 2:
            reason = "has no tab between source and target" if len(parts) == 1 else f"has {len(parts) - 1} tabs; expected one"
            skipped.add(path, reason, line_no)
            continue
        src, tgt = parts[0].strip(), parts[1].strip()
        if lowercase:
            src, tgt = src.lower(), tgt.lower()
        if not src or not tgt:
            skipped.add(path, f"the {'source' if not src else 'target'} is empty", line_no)
            continue
        if max(len(src), len(tgt)) > max_length:
            skipped.add(path, f"longer than max_length {max_length}", line_no)
            continue
        pairs.append((src, tgt))
    if not pairs:
        raise DataError(f"{path}: no source<TAB>target pairs found"
                        + (f"; first problem: {skipped[0]}" if skipped else ""))
    chars = CharVocab.of_texts(s + t for s, t in pairs)
    vocab = chars.tokens
    src_ids = [chars.encode(s) for s, _ in pairs]
    tgt_ids = [chars.encode(t) for _, t in pairs]
    ls, lt = max(map(len, src_ids)), max(map(len, tgt_ids)) + 1
    fields = {
        "src": _pad(src_ids, ls, left=True),
        "tgt_in": _pad([[BOS] + t for t in tgt_ids], lt),
        "tgt_out": _pad([t + [EOS] for t in tgt_ids], lt),
    }
    v = len(vocab)
    info = DatasetInfo(
        "text_pairs", "seq2seq", f"Text pairs from {path.name}", classes=vocab,
        inputs={"src": {"kind": "tokens", "length": ls, "vocab": v},
                # The decoder's input has no fixed length: greedy decoding feeds it step by step.
                "tgt_in": {"kind": "tokens", "length": 0, "vocab": v}},
        extra={"path": str(path), "vocab": vocab, "pad": PAD, "bos": BOS, "eos": EOS, "unk": UNK,
               "target": "tgt_out"})
    return finish(TensorData(fields), info, skipped, seed, val_split)
