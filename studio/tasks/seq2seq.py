"""Greedy decoding for encoder-decoder graphs, and the exact-match metric that uses it.

The graph is ordinary nodes: an encoder reads the source, its final state feeds a decoder
that reads the target shifted right (BOS + target: teacher forcing while training). At
inference there is no target, so :func:`greedy_decode` runs the compiled model again and
again, each time feeding back the tokens it has produced so far, and keeps the most likely
next token. Rerunning the decoder over the prefix costs O(T^2) steps, which for short
outputs is cheaper than splitting the graph into an encoder and a step function.
"""

from __future__ import annotations

import torch

from studio.data.tokens import CharVocab


class Seq2SeqError(ValueError):
    pass


def _output_index(model, output: str | None) -> int:
    names = model.output_names
    if output is not None:
        if output not in names:
            raise Seq2SeqError(f"the model has no output {output!r}; it has {', '.join(names)}")
        return names.index(output)
    for i, o in enumerate(model.outputs):
        if o.loss is not None and o.loss.metric == "greedy_exact_match":
            return i
    return 0


def decoder_field(model, batch: dict, target: str) -> str:
    """The input field that holds the target shifted right by one (BOS + target)."""
    tgt = batch[target]
    for f in model.input_fields:
        x = batch.get(f)
        if x is None or x is tgt or x.dim() != 2 or x.shape != tgt.shape or x.dtype != tgt.dtype:
            continue
        if torch.equal(x[:, 1:], tgt[:, :-1]):
            return f
    raise Seq2SeqError(f"greedy decoding needs a decoder input that is the target {target!r} shifted "
                       f"right (BOS + target); none of the inputs {model.input_fields} is")


@torch.no_grad()
def greedy_decode(model, batch: dict, decoder: str, steps: int, eos: int | None = None,
                  output: str | None = None) -> torch.Tensor:
    """Tokens ``[B, steps]`` predicted one at a time. ``batch`` holds every input field;
    only the first column of ``batch[decoder]`` (the BOS tokens) is read from it."""
    idx = _output_index(model, output)
    prefix = batch[decoder][:, :1]
    done = torch.zeros(prefix.shape[0], dtype=torch.bool, device=prefix.device)
    for _ in range(steps):
        inputs = [prefix if f == decoder else batch[f] for f in model.input_fields]
        outs = model(*inputs)
        logits = outs[idx] if isinstance(outs, tuple) else outs
        nxt = logits[:, -1].argmax(-1)
        prefix = torch.cat([prefix, nxt[:, None]], dim=1)
        if eos is not None:
            done |= nxt == eos
            if bool(done.all()):
                break
    out = prefix[:, 1:]
    if out.shape[1] < steps:
        fill = eos if eos is not None else 0
        out = torch.cat([out, out.new_full((out.shape[0], steps - out.shape[1]), fill)], dim=1)
    return out


class GreedyExactMatch:
    """Share of samples whose greedy decoding equals the whole target sequence.

    Positions where the target is padding (``ignore_index``) do not count; decoding stops
    for a sample once it emits the token that ends its target (EOS).
    """

    def __init__(self, target: str = "tgt_out", ignore_index: int = 0, **_: object) -> None:
        self.target = target
        self.ignore_index = ignore_index
        self.reset()

    def reset(self) -> None:
        self.correct = 0
        self.total = 0

    def update(self, pred: torch.Tensor, target: torch.Tensor, *, model, batch: dict) -> None:
        field = next((k for k, v in batch.items() if v is target), self.target)
        decoder = decoder_field(model, batch, field)
        tokens = greedy_decode(model, batch, decoder, steps=target.shape[1], eos=_eos(target, self.ignore_index))
        valid = target != self.ignore_index
        self.correct += int(((tokens == target) | ~valid).all(dim=1).sum())
        self.total += int(target.shape[0])

    def compute(self) -> float:
        return self.correct / self.total if self.total else 0.0


def _eos(target: torch.Tensor, ignore_index: int) -> int | None:
    """The token ending every target: the last non-padding one, when it is the same for all."""
    valid = target != ignore_index
    last = valid.long().cumsum(1).argmax(1)
    ends = target.gather(1, last[:, None]).flatten()
    return int(ends[0]) if len(ends) and bool((ends == ends[0]).all()) else None


def translate(model, texts: list[str], vocab: list[str], src_length: int, steps: int, *,
              source: str = "src", decoder: str = "tgt_in", bos: int = 1, eos: int = 2, pad: int = 0,
              left_pad: bool = True) -> list[str]:
    """Character-level inference: encode ``texts`` with ``vocab`` as training did (an
    unknown character is ``<unk>``, or left out when the vocabulary has none), decode
    greedily, and return the output strings."""
    chars = CharVocab(vocab, pad=pad, bos=bos, eos=eos)
    rows = [chars.encode(text, src_length, left=left_pad) for text in texts]
    batch = {source: torch.tensor(rows, dtype=torch.long).reshape(len(rows), src_length),
             decoder: torch.full((len(rows), 1), bos, dtype=torch.long)}
    was_training = model.training
    model.eval()
    try:
        tokens = greedy_decode(model, batch, decoder, steps, eos=eos)
    finally:
        model.train(was_training)
    return [chars.decode(row) for row in tokens.tolist()]
