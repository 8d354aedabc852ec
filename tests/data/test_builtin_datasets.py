import datetime as dt

import pytest
import torch

from studio.data.base import DataError
from studio.data.registry import dataset_names, load_data


def test_builtin_sets_are_registered():
    assert {"digits", "waves", "speech_digits", "dates", "shapes"} <= set(dataset_names(builtin_only=True))


# ---- speech ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def speech():
    from studio.data.builtin.speech import load_speech

    return load_speech(seed=0, val_split=0.25, speakers=8)


def test_speech_is_raw_audio_of_ten_words(speech):
    x, y = speech.train.fields["x"], speech.train.fields["y"]
    assert x.shape[1] == 8000 and x.dtype == torch.float32
    assert x.abs().max() <= 1.0 and x.abs().max() > 0.5  # real signal, not silence
    assert sorted(set(y.tolist())) == list(range(10))
    assert speech.info.inputs["x"] == {"kind": "waveform", "length": 8000, "sample_rate": 8000}
    assert speech.info.classes[7] == "seven"


def test_speech_holds_out_whole_voices(speech):
    train_voices = set(speech.train.fields["speaker"].tolist())
    val_voices = set(speech.val.fields["speaker"].tolist())
    assert val_voices and train_voices and not (train_voices & val_voices)
    assert len(val_voices) == 2  # a quarter of 8 voices
    # each held-out voice says every digit
    for v in val_voices:
        said = speech.val.fields["y"][speech.val.fields["speaker"] == v]
        assert sorted(set(said.tolist())) == list(range(10))
    assert len(speech.info.extra["val_speakers"]) == 2


def test_speech_keeps_each_voice_timbre_on_one_side():
    from studio.data.builtin.speech import load_speech

    s = load_speech(seed=3)
    names = s.info.extra["val_speakers"]
    held = {n.split("+")[1].split()[0] for n in names}
    assert len(s.val) >= 100
    val_ids = set(s.val.fields["speaker"].tolist())
    # every speaker with a held-out timbre is in validation, whatever its accent
    from studio.data.builtin.speech import FILE
    import numpy as np

    with np.load(FILE) as f:
        all_names = [str(n) for n in f["speaker_names"]]
    same_timbre = {i for i, n in enumerate(all_names) if n.split("+")[1].split()[0] in held}
    assert same_timbre == val_ids
    assert not val_ids & set(s.train.fields["speaker"].tolist())


def test_speech_split_follows_the_seed():
    from studio.data.builtin.speech import load_speech

    a = set(load_speech(seed=1, speakers=10).val.fields["speaker"].tolist())
    b = set(load_speech(seed=2, speakers=10).val.fields["speaker"].tolist())
    assert a != b


def test_speech_clip_length_option_cuts_and_pads():
    from studio.data.builtin.speech import load_speech

    s = load_speech(length=2000, speakers=2)
    assert s.train.fields["x"].shape[1] == 2000


def test_speech_file_missing_or_broken_names_the_file(tmp_path):
    from studio.data.builtin.speech import load_speech

    with pytest.raises(DataError, match="nothing.npz.*missing"):
        load_speech(path=str(tmp_path / "nothing.npz"))
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip file at all")
    with pytest.raises(DataError, match="bad.npz"):
        load_speech(path=str(bad))


# ---- dates -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def dates():
    from studio.data.builtin.dates import load_dates

    return load_dates(seed=0, val_split=0.2, n=1500)


def test_dates_fields_are_teacher_forcing_pairs(dates):
    from studio.data.builtin.dates import BOS, EOS, SRC_LEN, TGT_LEN

    f = dates.train.fields
    assert f["src"].shape[1] == SRC_LEN and f["src"].dtype == torch.long
    assert f["tgt_in"].shape[1] == f["tgt_out"].shape[1] == TGT_LEN
    assert (f["tgt_in"][:, 0] == BOS).all() and (f["tgt_out"][:, -1] == EOS).all()
    assert torch.equal(f["tgt_in"][:, 1:], f["tgt_out"][:, :-1])


def test_dates_targets_are_the_iso_form_of_the_source(dates):
    from studio.data.builtin.dates import FORMATS, TOKENS

    decode = TOKENS.decode

    f = dates.val.fields
    wordings = set()
    for src, tgt in zip(f["src"][:300], f["tgt_out"][:300]):
        text, iso = decode(src), decode(tgt)
        date = dt.date.fromisoformat(iso)
        matches = [i for i, fmt in enumerate(FORMATS) if fmt(date) == text]
        assert matches, f"{text!r} is not a wording of {iso}"
        wordings.update(matches)
    assert len(wordings) >= 10  # many human ways, not one


def test_dates_train_and_validation_share_no_input_and_no_date(dates):
    from studio.data.builtin.dates import TOKENS

    decode = TOKENS.decode

    def texts(split):
        return {decode(s) for s in split.fields["src"]}

    def days(split):
        return {decode(t) for t in split.fields["tgt_out"]}

    assert not texts(dates.train) & texts(dates.val)
    assert not days(dates.train) & days(dates.val)
    assert len(dates.val) == pytest.approx(300, abs=30)


# ---- shapes ----------------------------------------------------------------------------

def test_shapes_images_hold_the_labelled_shapes():
    from studio.data.builtin.shapes import make_shapes

    data = make_shapes(n=60, seed=7)
    x, boxes = data.fields["x"], data.fields["boxes"]
    assert x.shape == (60, 1, 48, 48) and 0 <= float(x.min()) and float(x.max()) <= 1
    real = boxes[..., 0] >= 0
    counts = real.sum(1)
    assert counts.min() >= 1 and counts.max() <= 4 and counts.float().mean() > 1.5
    assert set(boxes[..., 0][real].long().tolist()) == {0, 1, 2}
    assert ((boxes[..., 0] == -1) | real).all()
    for img, bs in zip(x[:20], boxes[:20]):
        border = torch.cat([img[0, 0], img[0, -1]]).median()
        for c, cx, cy, w, h in bs[bs[:, 0] >= 0].tolist():
            assert 0 < cx - w / 2 + 1e-6 and cx + w / 2 <= 1 + 1e-6
            r0, r1 = round((cy - h / 2) * 48), round((cy + h / 2) * 48)
            c0, c1 = round((cx - w / 2) * 48), round((cx + w / 2) * 48)
            centre = img[0, (r0 + r1) // 2 - 1:(r0 + r1) // 2 + 2, (c0 + c1) // 2 - 1:(c0 + c1) // 2 + 2].mean()
            assert abs(float(centre - border)) > 0.15  # the shape is drawn where its box says


def test_shapes_through_load_data_declares_boxes():
    split = load_data({"dataset": "shapes", "n": 100}, seed=0, val_split=0.2)
    assert len(split.train) == 80 and len(split.val) == 20
    assert split.info.task == "detection" and split.info.extra["boxes_field"] == "boxes"
    assert split.info.inputs["x"]["height"] == 48
