"""Predictions on new inputs: files or text made into samples exactly as the training
set's were (the importers' own readers: the same size, channels, scale, sample rate and
length, the same columns and standardisation), then one forward pass.

Each input gives one dict (a CSV file gives one per row): ``input``, what was predicted,
and ``notes`` on what preparing it changed (an image resized, a clip resampled).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from studio.data.base import DataError, DatasetInfo
from studio.evaluation.run import EvaluationError, LoadedRun

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")


def training_info(project, settings: dict) -> DatasetInfo:
    """The training set's description (classes, what each field holds, standardisation)."""
    from studio.data.registry import data_section, load_data

    try:
        return load_data(data_section(project), seed=int(settings.get("seed", 0)),
                         val_split=float(settings.get("val_split", 0.2))).info
    except DataError as exc:
        raise EvaluationError(str(exc)) from None


def expand_inputs(inputs: list[str]) -> list[str]:
    """Files stand for themselves, a folder for every file in it (sorted); anything else
    is text. An empty folder is an error naming it."""
    out = []
    for item in inputs:
        p = Path(item).expanduser()
        if p.is_dir():
            files = sorted(f for f in p.iterdir() if f.is_file() and not f.name.startswith("."))
            if not files:
                raise EvaluationError(f"{p}: the folder holds no files to predict on")
            out += [str(f) for f in files]
        else:
            out.append(item)
    return out


class Predictor:
    """A loaded run and what its inputs must look like; ``prepare`` makes a sample of a
    file or a text, ``predict`` runs a batch of samples."""

    def __init__(self, run: LoadedRun, info: DatasetInfo) -> None:
        self.run, self.info, self.model = run, info, run.model
        losses = [(i, o) for i, o in enumerate(self.model.outputs) if o.loss is not None and o.loss.task]
        self.index, out = losses[0] if losses else (0, self.model.outputs[0])
        self.task = out.loss.task if out.loss is not None else None
        self.field = self.model.input_fields[0]
        self.spec = dict(info.inputs.get(self.field, {}))
        self.kind = self.spec.get("kind", "")
        self.seq2seq = self.kind == "tokens" and "vocab" in info.extra

    @property
    def classes(self) -> list[str]:
        return list(self.info.classes or [])

    # ---- inputs -----------------------------------------------------------------------
    def prepare(self, item: str) -> list[tuple[str, Any, list[str]]]:
        """``[(label, sample, notes)]``: one for a file or a text, one per row of a CSV file."""
        path = Path(item).expanduser()
        if self.seq2seq:
            if path.is_file() and path.suffix.lower() == ".txt":
                lines = [ln for ln in _read_text(path).splitlines() if ln.strip()]
                return [(f"{path}:{i}", ln, []) for i, ln in enumerate(lines, 1)]
            return [(item, item, [])]
        if not path.exists():
            raise EvaluationError(f"{item}: no such file (this model reads {self.describe()})")
        if self.kind == "image":
            return [(str(path), *self._image(path))]
        if self.kind == "waveform":
            return [(str(path), *self._clip(path))]
        if self.kind == "vector":
            from studio.data.importers.csv_table import encode_rows

            try:
                x, lines = encode_rows(path, self.info.extra)
            except DataError as exc:
                raise EvaluationError(str(exc)) from None
            return [(f"{path}:{line}", row, []) for row, line in zip(x, lines)]
        raise EvaluationError(f"{path}: inputs of kind {self.kind or 'unknown'} cannot be read from files")

    def describe(self) -> str:
        s = self.spec
        if self.kind == "image":
            return f"{'grey' if s['channels'] == 1 else 'colour'} images of {s['width']}x{s['height']}"
        if self.kind == "waveform":
            return f"WAV clips at {s['sample_rate']} Hz"
        if self.kind == "vector":
            return "CSV rows"
        if self.seq2seq:
            return "text"
        return f"{self.kind or 'unknown'} inputs"

    def _image(self, path: Path):
        from studio.data.importers.image_folder import EXTENSIONS, probe, read_image

        if path.suffix.lower() not in EXTENSIONS:
            raise EvaluationError(f"{path}: not an image file ({', '.join(EXTENSIONS)}); this model reads "
                                  f"{self.describe()}")
        try:
            (h, w), mode = probe(path)
            size, grey = (self.spec["height"], self.spec["width"]), self.spec["channels"] == 1
            x = read_image(path, size, grey)
        except DataError as exc:
            raise EvaluationError(str(exc) if str(exc).startswith(str(path)) else f"{path}: {exc}") from None
        notes = []
        if (h, w) != size:
            notes.append(f"resized from {w}x{h} to {size[1]}x{size[0]}")
        if grey and mode not in ("1", "L", "I", "I;16", "F", "LA"):
            notes.append(f"converted from {mode} to grey")
        return x, notes

    def _clip(self, path: Path):
        from studio.data.importers.wav_folder import load_clip

        if path.suffix.lower() != ".wav":
            raise EvaluationError(f"{path}: not a WAV file; this model reads {self.describe()}")
        rate, length = int(self.spec["sample_rate"]), int(self.spec["length"])
        try:
            x, own = load_clip(path, rate, length)
        except DataError as exc:
            raise EvaluationError(str(exc)) from None
        return x, ([f"resampled from {own} Hz to {rate} Hz"] if own != rate else [])

    def tensor(self, sample) -> torch.Tensor:
        """A prepared sample (or a drawn image ``[C, H, W]`` in [0, 1]) as a batch of one."""
        return torch.as_tensor(sample, dtype=torch.float32).unsqueeze(0)

    # ---- predictions ------------------------------------------------------------------
    def predict(self, samples: list, top_k: int = 5) -> list[dict[str, Any]]:
        if self.seq2seq:
            return [{"text": t} for t in self._translate(samples)]
        x = torch.stack([torch.as_tensor(s, dtype=torch.float32) for s in samples])
        with torch.inference_mode():
            outs = self.model(x)
        out = (outs if isinstance(outs, tuple) else (outs,))[self.index].float()
        if self.task == "classification":
            prob = out.reshape(out.shape[0], -1).softmax(-1)
            return [self._top(p, top_k) for p in prob]
        if self.task == "binary":
            prob = torch.sigmoid(out.reshape(out.shape[0], -1))
            if prob.shape[1] == 1:
                names = self.classes if len(self.classes) == 2 else ["0", "1"]
                two = torch.cat([1 - prob, prob], 1)
                return [self._top(p, top_k, names) for p in two]
            return [{"labels": [{"class": self._name(c), "probability": float(v)} for c, v in enumerate(p)
                                if v > 0.5], "probabilities": [float(v) for v in p]} for p in prob]
        if self.task == "detection":
            from studio.tasks.detection import detect

            return [{"boxes": [{"class": self._name(int(d[1])), "score": float(d[0]),
                                "box": [float(v) for v in d[2:]]} for d in dets if float(d[0]) >= 0.3]}
                    for dets in detect(out, 0.3, 0.5)]
        return [{"value": [float(v) for v in row.reshape(-1)]} for row in out]

    def _top(self, prob: torch.Tensor, k: int, names: list[str] | None = None) -> dict[str, Any]:
        p, c = prob.topk(min(k, prob.shape[-1]))
        name = (lambda i: names[i]) if names else self._name
        top = [{"class": name(int(i)), "probability": float(v)} for v, i in zip(p, c)]
        return {"class": top[0]["class"], "probability": top[0]["probability"], "top": top}

    def _name(self, c: int) -> str:
        return self.classes[c] if 0 <= c < len(self.classes) else str(c)

    def _translate(self, texts: list[str]) -> list[str]:
        from studio.tasks.seq2seq import translate

        extra = self.info.extra
        source = self.field
        src_length = int(self.spec.get("length") or 0) or max(len(t) for t in texts)
        decoder = next((f for f in self.model.input_fields if f != source), "tgt_in")
        steps = int(extra.get("max_length") or 32)
        return translate(self.model, texts, list(extra["vocab"]), src_length, steps, source=source,
                         decoder=decoder, bos=int(extra.get("bos", 1)), eos=int(extra.get("eos", 2)),
                         pad=int(extra.get("pad", 0)))


def predict_inputs(predictor: Predictor, inputs: list[str], top_k: int = 5):
    """``(results, problems)``: one dict per prepared input (with ``input`` and ``notes``),
    and one message per input that could not be prepared (naming it)."""
    results, problems = [], []
    prepared = []
    for item in inputs:
        try:
            prepared += predictor.prepare(item)
        except EvaluationError as exc:
            problems.append(str(exc))
    for start in range(0, len(prepared), 256):
        chunk = prepared[start:start + 256]
        for (label, _, notes), out in zip(chunk, predictor.predict([s for _, s, _ in chunk], top_k)):
            results.append({"input": label, **out, "notes": notes})
    return results, problems


def _read_text(path: Path) -> str:
    try:
        return path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise EvaluationError(f"{path}: cannot be read as UTF-8 text ({exc})") from None


