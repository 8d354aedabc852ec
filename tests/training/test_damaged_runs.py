"""Damage that must not pass silently: a checkpoint or weights file changed after it was
written, a checkpoint whose fields cannot be, a run.json of the wrong shape, and a disk
that fills up during a run."""

from __future__ import annotations

import errno
import json

import pytest
import torch

from studio.core import checksums
from studio.training import TrainingError, train_project
from studio.training import runs as runs_mod
from studio.training.runs import RunError, RunFolder


def _flip_byte(path, offset_from_end=200):
    data = bytearray(path.read_bytes())
    data[len(data) - offset_from_end] ^= 0x01
    path.write_bytes(bytes(data))


def test_a_flipped_byte_in_the_last_checkpoint_is_refused_on_resume(mlp_project, data):
    run = train_project(mlp_project, data=data, epochs=2).run_dir
    ckpt = run / "checkpoints" / "last.ckpt"
    torch.load(ckpt, weights_only=True)  # loads fine before
    _flip_byte(ckpt)
    with pytest.raises(RunError, match=r"last\.ckpt: its contents differ .*checksum mismatch"):
        train_project(mlp_project, data=data, epochs=3, resume=run)


def test_the_best_checkpoint_and_final_weights_are_checked_too(mlp_project, data):
    run = train_project(mlp_project, data=data, epochs=2).run_dir
    folder = RunFolder(run)
    folder.load_checkpoint("best")  # a hard link of a last: its digest was recorded with it
    assert checksums.recorded(run, "weights.safetensors")
    _flip_byte(run / "weights.safetensors", 50)
    from studio.export.weights import WeightsError, read_state_dict

    with pytest.raises(WeightsError, match="checksum mismatch"):
        read_state_dict(run)


@pytest.mark.parametrize("field, value, fragment", [
    ("epoch", -5, "epoch -5"), ("epoch", 10**6, "epoch 1000000"), ("batch", 10**9, "batch 1000000000"),
    ("model", None, "'model' is missing"), ("partial", [1], "three numbers"),
])
def test_a_checkpoint_with_impossible_fields_is_refused_naming_them(mlp_project, data, field, value, fragment):
    run = train_project(mlp_project, data=data, epochs=2).run_dir
    folder = RunFolder(run)
    state = folder.load_checkpoint("last")
    if value is None:
        del state[field]
    else:
        state[field] = value
    folder.write_checkpoint("last", runs_mod.checkpoint_bytes(state))  # its checksum is recorded: only the fields are wrong
    with pytest.raises(RunError, match=fragment):
        folder.load_checkpoint("last")


@pytest.mark.parametrize("text, fragment", [
    ("[1, 2]", "top level must be an object"), ("42", "top level must be an object"),
    ('{"settings": "fast"}', "'settings' must be an object"), ("{", "cannot be read"),
])
def test_a_run_json_of_the_wrong_shape_gives_one_line(mlp_project, data, text, fragment):
    run = train_project(mlp_project, data=data, epochs=1).run_dir
    (run / "run.json").write_text(text)
    with pytest.raises(RunError, match=fragment) as err:
        train_project(mlp_project, data=data, epochs=2, resume=run)
    assert "\n" not in str(err.value)


def test_a_full_disk_stops_the_run_at_once_and_keeps_the_last_good_checkpoint(mlp_project, data, monkeypatch):
    real = runs_mod.atomic_write_bytes
    writes = {"n": 0}

    def fill_up(path, blob, durable=True):
        if path.name == "last.ckpt":
            writes["n"] += 1
            if writes["n"] == 2:  # the second epoch's checkpoint finds the disk full
                raise OSError(errno.ENOSPC, "No space left on device", str(path.parent / ".last.ckpt.x1.tmp"))
        return real(path, blob, durable)

    monkeypatch.setattr(runs_mod, "atomic_write_bytes", fill_up)
    with pytest.raises(TrainingError, match=r"cannot write last\.ckpt .*No space left on device") as err:
        train_project(mlp_project, data=data, epochs=10)
    result = err.value.result
    assert result.stopped_reason == "error"
    assert len(result.history) <= 3  # stopped at once, not after all ten epochs
    folder = RunFolder(result.run_dir)
    state = folder.load_checkpoint("last")  # the first epoch's checkpoint: whole, and its checksum agrees
    assert state["epoch"] == 1
    assert not [p for p in (result.run_dir / "checkpoints").iterdir() if p.name.endswith(".tmp")]
    info = json.loads((result.run_dir / "run.json").read_text())
    assert info["status"] == "error" and "No space left" in info["message"]


def test_a_write_that_fails_names_the_file_in_one_line_and_leaves_no_temporary(tmp_path, monkeypatch):
    import builtins

    from studio.core import atomic
    from studio.core.atomic import WriteError, atomic_write_bytes

    target = tmp_path / "model.onnx"
    target.write_bytes(b"old")

    class FullDisk:
        def __init__(self, path, mode):
            self.f = builtins.open(path, mode)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.f.close()

        def write(self, data):
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(atomic, "open", FullDisk, raising=False)
    with pytest.raises(WriteError, match=r"cannot write .*model\.onnx: No space left on device") as err:
        atomic_write_bytes(target, b"new contents")
    assert isinstance(err.value, OSError) and err.value.errno == errno.ENOSPC
    monkeypatch.undo()
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.onnx"]
