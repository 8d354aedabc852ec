import pytest
import torch

from studio.compile.module import LossInfo
from studio.tasks.seq2seq import GreedyExactMatch, Seq2SeqError, decoder_field, greedy_decode

V = 8  # vocabulary: 0 pad, 1 BOS, 2 EOS, 3..7 symbols


class Counter(torch.nn.Module):
    """A stand-in for a compiled seq2seq graph: the next token is the source's first
    token plus the number of tokens decoded so far, and EOS after ``stop`` tokens. It
    reads its own previous outputs, so only step-by-step decoding gets it right."""

    input_fields = ["src", "tgt_in"]
    output_names = ["loss"]

    class _O:
        node, params = "loss", {"metric": "greedy_exact_match"}
        loss = LossInfo(target="tgt_out", metric="greedy_exact_match")

    outputs = [_O()]

    def __init__(self, stop=3):
        super().__init__()
        self.stop = stop
        self.calls = 0

    def forward(self, src, tgt_in):
        self.calls += 1
        b, t = tgt_in.shape
        steps = torch.arange(t)
        nxt = (src[:, :1] + steps[None]).clamp(max=V - 1)
        nxt = torch.where(steps[None] >= self.stop, torch.full_like(nxt, 2), nxt)
        # Only a prefix that is right so far keeps counting: feed back garbage, get garbage.
        ok = torch.ones(b, t, dtype=torch.bool)
        if t > 1:
            ok[:, 1:] = (tgt_in[:, 1:] == nxt[:, :-1]).cumprod(1).bool()
        nxt = torch.where(ok, nxt, torch.full_like(nxt, 0))
        return torch.nn.functional.one_hot(nxt, V).float()


def test_greedy_decode_feeds_back_its_own_tokens():
    src = torch.tensor([[3, 0], [4, 0]])
    batch = {"src": src, "tgt_in": torch.tensor([[1, 7, 7, 7, 7], [1, 7, 7, 7, 7]])}
    tokens = greedy_decode(Counter(stop=3), batch, "tgt_in", steps=5, eos=2)
    assert tokens.tolist() == [[3, 4, 5, 2, 2], [4, 5, 6, 2, 2]]


def test_greedy_decode_stops_when_every_sample_ended():
    model = Counter(stop=2)
    batch = {"src": torch.tensor([[3], [5]]), "tgt_in": torch.ones(2, 10, dtype=torch.long)}
    tokens = greedy_decode(model, batch, "tgt_in", steps=10, eos=2)
    assert model.calls == 3  # two tokens and EOS, not ten steps
    assert tokens.shape == (2, 10) and (tokens[:, 2:] == 2).all()


def test_greedy_exact_match_scores_whole_sequences():
    src = torch.tensor([[3], [4], [5], [3]])
    right = [[3, 4, 5, 2], [4, 5, 6, 2], [5, 6, 7, 2]]
    target = torch.tensor(right + [[3, 4, 6, 2]])  # the last one the model gets wrong
    batch = {"src": src, "tgt_in": torch.cat([torch.ones(4, 1, dtype=torch.long), target[:, :-1]], 1),
             "tgt_out": target}
    metric = GreedyExactMatch(target="tgt_out", ignore_index=0)
    metric.update(None, target, model=Counter(stop=3), batch=batch)
    assert metric.compute() == pytest.approx(0.75)
    metric.reset()
    assert metric.compute() == 0.0


def test_padding_after_the_end_does_not_count():
    target = torch.tensor([[3, 4, 2, 0, 0]])
    batch = {"src": torch.tensor([[3]]), "tgt_in": torch.tensor([[1, 3, 4, 2, 0]]), "tgt_out": target}
    metric = GreedyExactMatch(target="tgt_out", ignore_index=0)
    metric.update(None, target, model=Counter(stop=2), batch=batch)
    assert metric.compute() == 1.0


def test_decoder_input_must_be_the_shifted_target():
    target = torch.tensor([[3, 4, 2]])
    batch = {"src": torch.tensor([[3]]), "tgt_in": torch.tensor([[1, 9, 9]]), "tgt_out": target}
    with pytest.raises(Seq2SeqError, match="shifted right"):
        decoder_field(Counter(), batch, "tgt_out")
    batch["tgt_in"] = torch.tensor([[1, 3, 4]])
    assert decoder_field(Counter(), batch, "tgt_out") == "tgt_in"


def test_translate_maps_text_through_the_vocabulary():
    from studio.tasks.seq2seq import translate

    vocab = ["<pad>", "<bos>", "<eos>", "a", "b", "c", "d", "e"]
    model = Counter(stop=3)
    model.train()
    assert translate(model, ["a", "c?"], vocab, src_length=1, steps=6) == ["abc", "cde"]
    assert model.training  # left as it was
