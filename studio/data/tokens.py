"""Characters as token ids: one vocabulary type for every character-level sequence task
(the text-pairs importer, the built-in dates, and translating with a trained model).

The special tokens come first (``<pad>`` 0, ``<bos>`` 1, ``<eos>`` 2, and ``<unk>`` 3 when
the vocabulary has one), the characters after them.
"""

from __future__ import annotations

from typing import Iterable, Sequence

PAD, BOS, EOS, UNK = 0, 1, 2, 3
SPECIALS = ("<pad>", "<bos>", "<eos>", "<unk>")


class CharVocab:
    def __init__(self, tokens: Sequence[str], *, pad: int = PAD, bos: int = BOS, eos: int = EOS) -> None:
        self.tokens = list(tokens)
        self.index = {t: i for i, t in enumerate(self.tokens)}
        self.pad, self.bos, self.eos = pad, bos, eos
        self.unk = self.index.get("<unk>")

    @classmethod
    def of_texts(cls, texts: Iterable[str]) -> "CharVocab":
        """The specials (with ``<unk>``), then every character of ``texts``, sorted."""
        return cls([*SPECIALS, *sorted({ch for text in texts for ch in text})])

    def __len__(self) -> int:
        return len(self.tokens)

    def encode(self, text: str, length: int | None = None, left: bool = False) -> list[int]:
        """Ids of ``text``'s characters; an unknown one is ``<unk>``, or left out when the
        vocabulary has none. With ``length``, the last ``length`` ids, padded on the right
        (or on the ``left``, so the text ends where an encoder stops)."""
        if self.unk is not None:
            ids = [self.index.get(ch, self.unk) for ch in text]
        else:
            ids = [self.index[ch] for ch in text if ch in self.index]
        if length is None:
            return ids
        ids = ids[-length:] if length else []
        padding = [self.pad] * (length - len(ids))
        return padding + ids if left else ids + padding

    def decode(self, ids) -> str:
        """Ids back to text, stopping at ``<eos>`` and leaving out padding and ``<bos>``;
        an id outside the vocabulary shows as ``?``."""
        out = []
        for i in ids:
            i = int(i)
            if i == self.eos:
                break
            if i in (self.pad, self.bos):
                continue
            out.append(self.tokens[i] if 0 <= i < len(self.tokens) else "?")
        return "".join(out)
