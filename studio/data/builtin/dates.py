"""Dates written many human ways, to be rewritten as ISO dates: a character-level
sequence-to-sequence task with real structure (month names, ordinals, two-digit years).

Fields: ``src`` (the human text as character ids, padded on the left so the text ends
where the encoder stops), ``tgt_in`` (BOS + the ISO date, what the decoder reads while
teacher-forced) and ``tgt_out`` (the ISO date + EOS, what it must predict). Train and
validation hold different calendar dates, so no input string occurs in both.
"""

from __future__ import annotations

import datetime as dt
import random

import torch

from studio.data.base import DatasetInfo, DataSplit, TensorData, split_indices
from studio.data.tokens import BOS, EOS, PAD, CharVocab

CHARS = " ,-./0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
VOCAB = ["<pad>", "<bos>", "<eos>", *CHARS]  # no <unk>: every text is made from CHARS
TOKENS = CharVocab(VOCAB)
SRC_LEN = 32
TGT_LEN = 11  # "YYYY-MM-DD" plus BOS or EOS
FIRST, LAST = dt.date(1950, 1, 1), dt.date(2049, 12, 31)  # two-digit years are unambiguous here

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December")
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


# Slashes are month first (US), dots day first (European); each format is unambiguous.
FORMATS = (
    lambda d: f"{ordinal(d.day)} of {MONTHS[d.month - 1]} {d.year}",
    lambda d: f"{d.month:02d}/{d.day:02d}/{d.year % 100:02d}",
    lambda d: f"{d.month}/{d.day}/{d.year}",
    lambda d: f"{MONTHS[d.month - 1]} {d.day}, {d.year}",
    lambda d: f"{MONTHS[d.month - 1][:3]} {d.day} {d.year}",
    lambda d: f"{d.day} {MONTHS[d.month - 1]} {d.year}",
    lambda d: f"{d.day}.{d.month}.{d.year}",
    lambda d: f"{d.day:02d}.{d.month:02d}.{d.year % 100:02d}",
    lambda d: f"{d.day}-{MONTHS[d.month - 1][:3]}-{d.year % 100:02d}",
    lambda d: f"{DAYS[d.weekday()]}, {MONTHS[d.month - 1]} {ordinal(d.day)} {d.year}",
    lambda d: f"the {ordinal(d.day)} of {MONTHS[d.month - 1].lower()}, {d.year}",
    lambda d: f"{MONTHS[d.month - 1].upper()[:3]} {d.day:02d} {d.year}",
    lambda d: f"{d.year}/{d.month:02d}/{d.day:02d}",
    lambda d: f"{DAYS[d.weekday()][:3]} {d.day} {MONTHS[d.month - 1][:3]} {d.year % 100:02d}",
)


def make_dates(n: int, seed: int = 1234) -> tuple[TensorData, list[str], torch.Tensor]:
    """``n`` (date, wording) pairs without repeats; returns the data, the source texts and
    each sample's calendar day (to keep days apart across the split)."""
    rng = random.Random(seed)
    span = (LAST - FIRST).days
    seen, src, tin, tout, days, texts = set(), [], [], [], [], []
    while len(texts) < n:
        day = rng.randrange(span + 1)
        date = FIRST + dt.timedelta(days=day)
        text = rng.choice(FORMATS)(date)
        if text in seen:
            continue
        seen.add(text)
        iso = date.isoformat()
        texts.append(text)
        src.append(TOKENS.encode(text, SRC_LEN, left=True))
        tin.append([BOS] + TOKENS.encode(iso, TGT_LEN - 1))
        tout.append(TOKENS.encode(iso, TGT_LEN - 1) + [EOS])
        days.append(day)
    data = TensorData({"src": torch.tensor(src), "tgt_in": torch.tensor(tin), "tgt_out": torch.tensor(tout)})
    return data, texts, torch.tensor(days)


def load_dates(seed: int = 0, val_split: float = 0.2, n: int = 12000) -> DataSplit:
    data, texts, days = make_dates(n)
    tr, va = split_indices(len(data), val_split, seed, groups=days)
    info = DatasetInfo(
        "dates", "seq2seq",
        "Dates in 14 human wordings ('3rd of March 1999', '03/03/99', 'March 3, 1999'...) to ISO "
        "'1999-03-03'; validation dates never occur in training",
        inputs={"src": {"kind": "tokens", "length": SRC_LEN, "vocab": len(VOCAB)},
                "tgt_in": {"kind": "tokens", "length": 0, "vocab": len(VOCAB)}},
        extra={"vocab": VOCAB, "pad": PAD, "bos": BOS, "eos": EOS, "max_length": TGT_LEN,
               "examples": [(texts[i], TOKENS.decode(data.fields["tgt_out"][i])) for i in tr[:8].tolist()]})
    return DataSplit(data.subset(tr), data.subset(va), info)
