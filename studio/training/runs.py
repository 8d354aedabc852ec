"""Run folders: every training run keeps its settings, history and checkpoints.

::

    <project dir>/runs/<name>/
      run.json                 settings, project snapshot, device, status, message
      metrics.jsonl            one JSON object per finished epoch
      weights.safetensors      the final weights (GraphModule.state_dict())
      checkpoints/last.ckpt    model, optimizer, schedule, RNG and position: resumable
      checkpoints/best.ckpt    the same at the best validation loss

Checkpoints are plain ``torch.save`` dicts of tensors, numbers and lists, so they load
with ``torch.load(..., weights_only=True)``; nothing pickled runs on load. Every file is
written atomically (a reader sees the whole old file or the whole new one) but not
fsynced: each fsync costs ~20 ms on this project's test machines, which is 10 % of a
short run, and it only guards against a power cut in the seconds after the write. The
project file and exports are fsynced.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import queue
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any


from studio.core import checksums, jsontext
from studio.core.atomic import atomic_path, atomic_write_bytes, atomic_write_text
from studio.core.errors import StudioError, clip
from studio.core.userdir import user_dir
from studio.core.pickled import refusal
from studio.training.callbacks import TrainingCallback


class RunError(StudioError):
    pass


def user_runs_dir() -> Path:
    return user_dir() / "runs"


def runs_dir_for(project) -> Path:
    """``<project dir>/runs``; the user's runs folder for a project never saved or for
    a built-in example (its folder belongs to the installation)."""
    path = getattr(project, "path", None)
    if path is None:
        return user_runs_dir()
    path = Path(path).resolve()
    from studio.resources import resources_dir

    if resources_dir().resolve() in path.parents:
        return user_runs_dir() / path.stem
    return path.parent / "runs"


def new_run_dir(root: Path, stem: str = "") -> Path:
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    base = f"{stamp}-{_slug(stem)}" if stem else stamp
    path, i = root / base, 1
    while path.exists():
        i += 1
        path = root / f"{base}-{i}"
    return path


def short_run_name(run_name: str) -> str:
    """``20261122-063032-cnn-digits`` (as :func:`new_run_dir` names a run) -> ``06:30:32``,
    for the runs list and the curves' legend, which have little room."""
    parts = run_name.split("-")
    if len(parts) > 1 and len(parts[1]) == 6 and parts[1].isdigit():
        t = parts[1]
        return f"{t[:2]}:{t[2:4]}:{t[4:]}"
    return run_name[:16]


def _slug(text: str) -> str:
    keep = "".join(c if c.isalnum() else "-" for c in text.lower()).strip("-")
    return "-".join(p for p in keep.split("-") if p)[:40]


class RunFolder:
    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)

    @property
    def info_path(self) -> Path:
        return self.path / "run.json"

    @property
    def metrics_path(self) -> Path:
        return self.path / "metrics.jsonl"

    @property
    def weights_path(self) -> Path:
        return self.path / "weights.safetensors"

    def checkpoint_path(self, kind: str) -> Path:
        return self.path / "checkpoints" / f"{kind}.ckpt"

    # ---- run.json and history ---------------------------------------------------------
    def read_info(self) -> dict[str, Any]:
        try:
            info = json.loads(self.info_path.read_text("utf-8"))
        except FileNotFoundError:
            raise RunError(f"{self.path} is not a run folder (no run.json)") from None
        except (OSError, ValueError) as exc:
            raise RunError(f"{self.info_path}: cannot be read: {clip(str(exc), 160)}") from None
        if not isinstance(info, dict):
            raise RunError(f"{self.info_path}: not a run record (the top level must be an object)")
        for key in ("settings", "project"):
            if key in info and not isinstance(info[key], dict):
                raise RunError(f"{self.info_path}: {key!r} must be an object, got {type(info[key]).__name__}")
        return info

    def write_info(self, info: dict[str, Any]) -> None:
        atomic_write_text(self.info_path, jsontext.dumps(info, indent=2) + "\n", durable=False)

    def update_info(self, **changes: Any) -> None:
        info = self.read_info() if self.info_path.exists() else {}
        info.update(changes)
        self.write_info(info)

    def write_history(self, history: list[dict]) -> None:
        atomic_write_text(self.metrics_path, "".join(jsontext.dumps(r) + "\n" for r in history),
                          durable=False)

    def read_history(self) -> list[dict]:
        if not self.metrics_path.exists():
            return []
        rows = []
        lines = self.metrics_path.read_text("utf-8").splitlines()
        for i, line in enumerate(lines, 1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except ValueError:
                    if i == len(lines):  # cut short by a crash mid-write
                        break
                    raise RunError(f"{self.metrics_path}, line {i}: not valid JSON") from None
        return rows

    # ---- weights and checkpoints ------------------------------------------------------
    def save_checkpoint(self, kind: str, state: dict) -> Path:
        return self.write_checkpoint(kind, checkpoint_bytes(state))

    def _rel(self, path: Path) -> str:
        return path.relative_to(self.path).as_posix()

    def write_checkpoint(self, kind: str, blob: bytes) -> Path:
        """Write a checkpoint serialised by :func:`checkpoint_bytes`, its checksum first."""
        path = self.checkpoint_path(kind)
        checksums.record(self.path, self._rel(path), checksums.digest(blob))
        atomic_write_bytes(path, blob, durable=False)
        return path

    def load_checkpoint(self, kind: str = "last", map_location="cpu") -> dict:
        """The checkpoint's state, after checking its checksum and its fields: a damaged
        or altered file is refused, naming it, instead of resuming from changed state."""
        path = self.checkpoint_path(kind)
        if not path.exists():
            raise RunError(f"{path}: no checkpoint to resume from")
        import pickle

        try:
            data = path.read_bytes()
        except OSError as exc:
            raise RunError(f"{path}: cannot be read: {exc.strerror or exc}") from None
        try:
            checksums.verify(self.path, self._rel(path), data)
        except checksums.ChecksumError as exc:
            raise RunError(str(exc)) from None
        try:
            import io

            import torch

            state = torch.load(io.BytesIO(data), map_location=map_location, weights_only=True)
        except pickle.UnpicklingError:  # torch's text recommends loading it unsafely
            raise RunError(refusal(path, "checkpoint")) from None
        except Exception as exc:  # a truncated or foreign file: say which
            raise RunError(f"{path}: not a readable checkpoint ({clip(str(exc), 160)})") from None
        check_checkpoint(state, path)
        return state

    def append_history(self, record: dict) -> None:
        """One line per epoch; a crash can only cut the last line, which readers skip."""
        with open(self.metrics_path, "a", encoding="utf-8") as f:
            f.write(jsontext.dumps(record) + "\n")

    def link_checkpoint(self, src: str, dst: str) -> Path:
        """Make ``dst`` the same file as ``src`` (a hard link, else a copy), atomically."""
        import shutil

        target = self.checkpoint_path(dst)
        known = checksums.recorded(self.path, self._rel(self.checkpoint_path(src)))
        if known:
            checksums.record(self.path, self._rel(target), known[0])
        with atomic_path(target, durable=False) as tmp:
            tmp.unlink()
            try:
                os.link(self.checkpoint_path(src), tmp)
            except OSError:
                shutil.copyfile(self.checkpoint_path(src), tmp)
        return target

    def save_weights(self, state_dict: dict) -> Path:
        from safetensors.torch import save

        tensors = {k: v.detach().to("cpu").contiguous().clone() for k, v in state_dict.items()}
        # Serialised in memory: safetensors' own save_file replaces the file with a 0600 one.
        blob = save(tensors, metadata={"format": "layer-studio"})
        checksums.record(self.path, self._rel(self.weights_path), checksums.digest(blob))
        atomic_write_bytes(self.weights_path, blob, durable=False)
        return self.weights_path


CHECKPOINT_FIELDS = {"model": dict, "optimizer": dict, "scheduler": dict, "epoch": int, "batch": int,
                     "partial": list, "rng": dict, "history": list}


def check_checkpoint(state, path) -> None:
    """Refuse a checkpoint whose fields cannot be what a run wrote (a negative epoch,
    a batch past any epoch's end, history that disagrees with the epoch count)."""
    def bad(what: str) -> RunError:
        return RunError(f"{path}: not a valid checkpoint: {what}")

    if not isinstance(state, dict):
        raise bad("it holds no state")
    for key, kind in CHECKPOINT_FIELDS.items():
        value = state.get(key)
        if not isinstance(value, kind) or isinstance(value, bool):
            raise bad(f"{key!r} is missing or not {'a number' if kind is int else kind.__name__}")
    epoch, batch, history = state["epoch"], state["batch"], state["history"]
    if not 0 <= epoch <= 1_000_000 or epoch != len(history):
        raise bad(f"epoch {epoch} with {len(history)} epochs of history")
    if not 0 <= batch <= 100_000_000:
        raise bad(f"batch {batch}")
    partial = state["partial"]
    if len(partial) != 3 or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in partial):
        raise bad("'partial' is not three numbers")
    if "callbacks" in state and not isinstance(state["callbacks"], dict):
        raise bad("'callbacks' is not a mapping")


def checkpoint_bytes(state: dict) -> bytes:
    """``state`` as a ``torch.save`` file, in memory: a snapshot that later training
    steps cannot change, ready for the writer thread."""
    import io

    import torch

    buf = io.BytesIO()
    torch.save(state, buf)
    return buf.getvalue()


class BackgroundWriter:
    """Writes files on one background thread, in order, so serialising and syncing a
    checkpoint overlaps the next epoch instead of stalling it. ``flush()`` waits for
    everything queued and re-raises the first error."""

    def __init__(self, on_error=None) -> None:
        self._queue: queue.Queue = queue.Queue()
        self._error: BaseException | None = None
        self._on_error = on_error  # told at once, from the writer thread, of the first failure
        self._thread = threading.Thread(target=self._run, name="run-writer", daemon=True)
        self._thread.start()

    def submit(self, fn, *args, **kwargs) -> None:
        self._queue.put((fn, args, kwargs))

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            try:
                if item is None:
                    return
                if self._error is None:
                    item[0](*item[1], **item[2])
            except BaseException as exc:  # reported by flush() in the training thread
                first = self._error is None
                self._error = exc
                if first and self._on_error is not None:
                    with contextlib.suppress(Exception):
                        self._on_error(exc)
            finally:
                self._queue.task_done()

    def flush(self) -> None:
        self._queue.join()
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join()


class RunWriteError(RunError):
    """A run file could not be written (a full disk, a folder gone): the run stops."""


def write_failure(exc: BaseException, run_path: Path, epoch: int) -> RunWriteError:
    what = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    name = Path(getattr(exc, "filename", None) or run_path).name
    for real in ("last.ckpt", "best.ckpt", "weights.safetensors", "run.json", "metrics.jsonl", "checksums.json"):
        if f".{real}." in name or name == real:  # a temporary's name holds the file's
            name = real
    last = Path(run_path) / "checkpoints" / "last.ckpt"
    kept = (f"the last checkpoint written before is kept ({last})" if last.is_file()
            else "no checkpoint could be written")
    return RunWriteError(f"cannot write {name} in {run_path}: {what}; training stopped in epoch {epoch + 1}, "
                         f"and {kept}")


class RunLogger(TrainingCallback):
    """Keeps the run folder's run.json (status, message) and metrics.jsonl (one line per
    epoch), and writes the final weights, all through the trainer's writer thread, in
    order, overlapping the training. A run that fails before it began (a resume whose
    checkpoint does not load, a graph with nothing to train) leaves its folder, or a
    finished run's, as it was."""

    def __init__(self, run_info: dict | None = None) -> None:
        self.run_info = dict(run_info or {})
        self.began = False

    def on_fit_start(self, trainer) -> None:
        run, submit = trainer.run, trainer.writer.submit
        if trainer.resumed:
            submit(run.update_info, status="running", message="", resumed=_now())
            submit(run.write_history, list(trainer.history))
        else:
            run.path.mkdir(parents=True, exist_ok=True)
            submit(run.write_info, {
                "status": "running", "message": "", "started": _now(), "device": str(trainer.device),
                "settings": trainer.settings,
                "memory_format": "channels_last" if trainer.channels_last else "contiguous", **self.run_info})
            submit(run.metrics_path.write_text, "")
        self.began = True

    def on_train_epoch_end(self, trainer, record: dict) -> None:
        trainer.writer.submit(trainer.run.append_history, record)

    def on_fit_end(self, trainer, result) -> None:
        run, submit = trainer.run, trainer.writer.submit
        submit(run.save_weights, _detached(trainer.model.state_dict()))
        submit(run.update_info, status=result.stopped_reason, message=result.message,
               best_epoch=result.best_epoch, finished=_now(), epochs_done=len(result.history))
        trainer.writer.flush()

    def on_exception(self, trainer, error: BaseException) -> None:
        if not self.began:
            return
        with contextlib.suppress(Exception):
            trainer.writer.flush()  # the last good checkpoint is whole on disk
        trainer.run.update_info(status=trainer.status, message=trainer.message, finished=_now(),
                                epochs_done=len(trainer.history))


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S")


def _detached(value):
    """A deep copy whose tensors no training step can change while it is written."""
    import torch

    if isinstance(value, torch.Tensor):
        return value.detach().clone()
    if isinstance(value, dict):
        return {k: _detached(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_detached(v) for v in value)
    return value


@dataclass
class RunSummary:
    path: Path
    name: str
    status: str
    started: str
    epochs_done: int
    best_val_loss: float | None
    message: str
    history: list[dict]


def list_runs(root: str | os.PathLike) -> list[RunSummary]:
    """Past runs under ``root``, oldest first; unreadable folders are skipped."""
    root = Path(root)
    if not root.is_dir():
        return []
    out = []
    for path in sorted(p for p in root.iterdir() if (p / "run.json").is_file()):
        folder = RunFolder(path)
        try:
            info = folder.read_info()
            history = folder.read_history()
        except RunError:
            continue
        vals = [r["val_loss"] for r in history if isinstance(r.get("val_loss"), (int, float))]
        out.append(RunSummary(path, path.name, info.get("status", "unknown"), info.get("started", ""),
                              len(history), min(vals) if vals else None, info.get("message", ""), history))
    return out
