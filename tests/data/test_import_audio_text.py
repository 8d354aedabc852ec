"""WAV-folder and text-pairs importers."""

from __future__ import annotations

import math
import struct
import wave

import pytest
import torch

from studio.data import DataError, load_data
from studio.data.tokens import BOS, EOS, PAD, CharVocab


def _wav(path, freq, rate=8000, seconds=0.25, width=2, channels=1, amp=0.5):
    path.parent.mkdir(parents=True, exist_ok=True)
    n = int(rate * seconds)
    frames = bytearray()
    for i in range(n):
        v = amp * math.sin(2 * math.pi * freq * i / rate)
        for _ in range(channels):
            if width == 2:
                frames += struct.pack("<h", int(v * 32767))
            elif width == 1:
                frames += struct.pack("<B", int(v * 127 + 128))
            else:  # 24-bit
                frames += int(v * (2**23 - 1)).to_bytes(3, "little", signed=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(bytes(frames))


def test_wav_folder_resamples_pads_and_labels(tmp_path):
    _wav(tmp_path / "yes" / "ann_0.wav", 440, rate=8000, seconds=0.25)
    _wav(tmp_path / "yes" / "bob_0.wav", 440, rate=16000, seconds=0.1, channels=2)
    _wav(tmp_path / "no" / "ann_1.wav", 220, rate=8000, seconds=0.2, width=1)
    _wav(tmp_path / "no" / "bob_1.wav", 220, rate=8000, seconds=0.2, width=3)
    split = load_data({"dataset": "wav_folder", "path": str(tmp_path)}, val_split=0.0)
    assert split.info.classes == ["no", "yes"]
    assert split.info.inputs["x"] == {"kind": "waveform", "length": 2000, "sample_rate": 8000}
    x, y = split.train.fields["x"], split.train.fields["y"]
    assert x.shape == (4, 2000) and y.tolist().count(1) == 2
    for row in x:
        assert 0.3 < row.abs().max() <= 1.0  # every bit depth arrives at the same scale
    # The 0.1 s stereo clip at 16 kHz becomes 800 samples at 8 kHz, then zero padding.
    short = x[(x[:, 800:].abs().sum(1) == 0)]
    assert len(short) == 1 and short[0, :790].abs().max() > 0.3


def test_wav_fixed_length_cuts_and_speaker_split_holds_out_voices(tmp_path):
    for speaker in ("ann", "bob", "cid", "dee", "eve"):
        for word, f in (("up", 300), ("down", 600)):
            _wav(tmp_path / word / f"{speaker}_{word}.wav", f, seconds=0.1)
    cfg = {"dataset": "wav_folder", "path": str(tmp_path), "seconds": 0.05, "split_by": "speaker", "lazy": True}
    split = load_data(cfg, seed=2, val_split=0.4)
    assert split.info.inputs["x"]["length"] == 400
    val_speakers = {p.stem.split("_")[0] for p, _ in split.val.items}
    train_speakers = {p.stem.split("_")[0] for p, _ in split.train.items}
    assert len(val_speakers) == 2 and not val_speakers & train_speakers
    assert split.val[0]["x"].shape == (400,)


def test_wav_bad_files_are_skipped_by_name(tmp_path):
    _wav(tmp_path / "go" / "a.wav", 300)
    _wav(tmp_path / "stop" / "b.wav", 500)
    (tmp_path / "go" / "noise.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
    (tmp_path / "stop" / "text.wav").write_text("hello")
    _wav(tmp_path / "_background_noise_" / "hum.wav", 50, seconds=0.5)
    split = load_data({"dataset": "wav_folder", "path": str(tmp_path)}, val_split=0.0)
    assert len(split.train) == 2
    assert split.info.classes == ["go", "stop"]
    names = sorted(s.split(":")[0].rsplit("/", 1)[1] for s in split.skipped)
    assert names == ["_background_noise_", "noise.wav", "text.wav"]


def test_wav_folder_errors(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        load_data({"dataset": "wav_folder", "path": str(tmp_path / "none")})
    (tmp_path / "only").mkdir()
    (tmp_path / "only" / "bad.wav").write_text("x")
    with pytest.raises(DataError, match="none of the WAV files could be read"):
        load_data({"dataset": "wav_folder", "path": str(tmp_path)})
    _wav(tmp_path / "two" / "solo_1.wav", 300)
    with pytest.raises(DataError, match="at least two speakers"):
        load_data({"dataset": "wav_folder", "path": str(tmp_path), "split_by": "speaker"})


def test_text_pairs_fields_and_special_tokens(tmp_path):
    p = tmp_path / "pairs.tsv"
    p.write_text("3rd of March 1999\t1999-03-03\n03/04/99\t1999-04-03\nMay 5 2001\t2001-05-05\n")
    split = load_data({"dataset": "text_pairs", "path": str(p)}, val_split=0.0)
    info, f = split.info, split.train.fields
    vocab = info.extra["vocab"]
    assert vocab[:4] == ["<pad>", "<bos>", "<eos>", "<unk>"] and info.extra["pad"] == PAD == 0
    assert f["src"].shape == (3, 17) and f["tgt_in"].shape == f["tgt_out"].shape == (3, 11)
    assert (f["tgt_in"][:, 0] == BOS).all() and (f["tgt_out"][:, -1] == EOS).all()
    assert torch.equal(f["tgt_in"][:, 1:], f["tgt_out"][:, :-1])
    decode = CharVocab(vocab).decode
    texts = {decode(s): decode(t) for s, t in zip(f["src"], f["tgt_out"])}
    assert texts["03/04/99"] == "1999-04-03" and texts["3rd of March 1999"] == "1999-03-03"
    short = f["src"][[decode(s) for s in f["src"]].index("03/04/99")]
    assert (short[:-8] == PAD).all() and (short[-8:] != PAD).all()  # padded on the left
    assert info.inputs["src"] == {"kind": "tokens", "length": 17, "vocab": len(vocab)}
    assert info.inputs["tgt_in"]["length"] == 0


def test_text_pairs_bad_lines_are_skipped_with_line_numbers(tmp_path):
    p = tmp_path / "pairs.tsv"
    p.write_text("a\tb\nno tab here\n\nx\ty\tz\n\tempty source\n" + "long\t" + "q" * 50 + "\nc\td\n")
    split = load_data({"dataset": "text_pairs", "path": str(p), "max_length": 20}, val_split=0.0)
    assert len(split.train) == 2
    lines = sorted(int(s.split(":")[1]) for s in split.skipped)
    assert lines == [2, 4, 5, 6]
    assert any("no tab" in s for s in split.skipped)


def test_text_pairs_unusable_files(tmp_path):
    p = tmp_path / "none.tsv"
    p.write_text("just words\nmore words\n")
    with pytest.raises(DataError, match="none.tsv: no source<TAB>target pairs found; first problem: .*:1:"):
        load_data({"dataset": "text_pairs", "path": str(p)})
    with pytest.raises(DataError, match="is a folder"):
        load_data({"dataset": "text_pairs", "path": str(tmp_path)})


def test_wav_folder_split_already_keeps_its_split(tmp_path):
    for part in ("train", "validation"):
        for word, f in (("on", 300), ("off", 600)):
            _wav(tmp_path / part / word / "x_1.wav", f, seconds=0.05)
    split = load_data({"dataset": "wav_folder", "path": str(tmp_path), "split_by": "speaker"}, val_split=0.5)
    assert split.info.extra["presplit"] and split.info.classes == ["off", "on"]
    assert len(split.train) == 2 and len(split.val) == 2


def _riff_wav(path, samples, rate=8000, code=3, bits=32, extensible=False, extra_chunk=True):
    """A WAV written by hand: float or extensible headers the ``wave`` module refuses."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fmt_code = 0xFFFE if extensible else code
    fmt = struct.pack("<HHIIHH", fmt_code, 1, rate, rate * bits // 8, bits // 8, bits)
    if extensible:
        fmt += struct.pack("<HHIH", 22, bits, 4, code) + b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"
    data = struct.pack(f"<{len(samples)}f", *samples) if (code, bits) == (3, 32) else \
        struct.pack(f"<{len(samples)}h", *[int(v * 32767) for v in samples])
    chunks = b"fmt " + struct.pack("<I", len(fmt)) + fmt
    if extra_chunk:
        chunks += b"LIST" + struct.pack("<I", 3) + b"abc\x00"  # odd size: padded to even
    chunks += b"data" + struct.pack("<I", len(data)) + data
    path.write_bytes(b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WAVE" + chunks)


def test_float_and_extensible_wavs_load_and_unsupported_formats_are_named(tmp_path):
    tone = [0.5 * math.sin(2 * math.pi * 200 * i / 8000) for i in range(400)]
    _riff_wav(tmp_path / "a" / "float.wav", tone)
    _riff_wav(tmp_path / "a" / "ext_float.wav", tone, extensible=True)
    _riff_wav(tmp_path / "b" / "ext_pcm.wav", tone, code=1, bits=16, extensible=True)
    _riff_wav(tmp_path / "b" / "mulaw.wav", tone, code=7, bits=8)
    (tmp_path / "b" / "cut.wav").write_bytes(b"RIFF\x10\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00")
    split = load_data({"dataset": "wav_folder", "path": str(tmp_path)}, val_split=0.0)
    x = split.train.fields["x"]
    assert x.shape == (3, 400)
    for row in x:
        assert torch.allclose(row, torch.tensor(tone), atol=1e-3)
    text = "\n".join(split.skipped)
    assert "mulaw.wav: WAV format 7" in text and "cut.wav: not a readable WAV file (it ends inside its header)" in text and len(split.skipped) == 2
