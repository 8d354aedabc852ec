from __future__ import annotations

import struct
import wave

import numpy as np
import pytest
import torch
from PIL import Image

from studio.core.project import load
from studio.evaluation import EvaluationError, load_run
from studio.evaluation.predict import Predictor, expand_inputs, predict_inputs, training_info


@pytest.fixture(scope="module")
def predictor(digits_run):
    path, run = digits_run
    project = load(path)
    loaded = load_run(project, run)
    return Predictor(loaded, training_info(project, loaded.settings))


def _drawn_digits(folder, predictor, count=5):
    """Digits of the built-in set saved as PNG images (ink bright, as the set stores it),
    with their classes; only ones the model gets right as tensors."""
    from sklearn.datasets import load_digits

    d = load_digits()
    x = torch.tensor(d.images, dtype=torch.float32).unsqueeze(1) / 16.0
    with torch.no_grad():
        right = np.flatnonzero(predictor.model(x).argmax(-1).numpy() == d.target)
    out = []
    for i in right[:count]:
        path = folder / f"digit{i}.png"
        Image.fromarray((d.images[i] / 16.0 * 255).round().astype(np.uint8)).save(path)
        out.append((path, str(d.target[i])))
    return out


def test_a_drawn_digit_image_is_predicted_as_its_class(predictor, tmp_path):
    drawn = _drawn_digits(tmp_path, predictor)
    results, problems = predict_inputs(predictor, [str(p) for p, _ in drawn], top_k=3)
    assert problems == []
    assert [r["class"] for r in results] == [c for _, c in drawn]
    assert all(len(r["top"]) == 3 and r["notes"] == [] for r in results)


def test_a_bigger_colour_image_is_prepared_like_the_set_and_says_so(predictor, tmp_path):
    (path, _), = _drawn_digits(tmp_path, predictor, 1)
    big = tmp_path / "big.png"
    Image.open(path).convert("RGB").resize((32, 32), Image.Resampling.NEAREST).save(big)
    (result,), _ = predict_inputs(predictor, [str(big)])
    assert result["notes"] == ["resized from 32x32 to 8x8", "converted from RGB to grey"]


def test_bad_inputs_are_named(predictor, tmp_path):
    (tmp_path / "corrupt.png").write_bytes(b"not an image")
    (tmp_path / "sound.wav").write_bytes(b"RIFF")
    results, problems = predict_inputs(predictor, [str(tmp_path / "corrupt.png"), str(tmp_path / "sound.wav"),
                                                   str(tmp_path / "missing.png")])
    assert results == []
    assert [p.split(":")[0] for p in problems] == [str(tmp_path / n) for n in ("corrupt.png", "sound.wav",
                                                                                "missing.png")]
    (tmp_path / "empty").mkdir()
    with pytest.raises(EvaluationError, match="empty.*no files"):
        expand_inputs([str(tmp_path / "empty")])


def test_a_folder_stands_for_its_files(tmp_path):
    for name in ("b.png", "a.png", ".hidden"):
        (tmp_path / name).write_bytes(b"")
    assert expand_inputs([str(tmp_path)]) == [str(tmp_path / "a.png"), str(tmp_path / "b.png")]


def _wav(path, rate, seconds=0.5):
    n = int(rate * seconds)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(struct.pack(f"<{n}h", *[int(8000 * np.sin(i / 5)) for i in range(n)]))


def test_a_clip_at_another_rate_is_resampled_like_the_set(tmp_path):
    from studio.data.importers.wav_folder import load_clip

    _wav(tmp_path / "a.wav", 16000)
    x, rate = load_clip(tmp_path / "a.wav", 8000, 6000)
    assert rate == 16000 and x.shape == (6000,)
    assert float(x[4000:].abs().max()) == 0.0  # 0.5 s at 8 kHz, padded with silence
