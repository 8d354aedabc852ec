"""Atomic writes: a save that fails leaves the old file whole and no temporary behind;
a saved file gets the mode the user's umask gives, like any file a program writes."""

from __future__ import annotations

import os
import stat

import pytest

from studio.core.atomic import atomic_path, atomic_write_bytes, atomic_write_text


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def umask():
    """Set the process umask for one test, and put the old one back."""
    old = os.umask(0o022)
    os.umask(old)
    yield lambda mask: os.umask(mask)
    os.umask(old)


def test_a_write_replaces_the_content_and_leaves_only_the_file(tmp_path):
    target = tmp_path / "model.json"
    atomic_write_text(target, "old")
    atomic_write_text(target, "new")
    assert target.read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.json"]


def test_a_failed_write_keeps_the_old_file_and_removes_the_temporary(tmp_path):
    target = tmp_path / "model.json"
    target.write_text("the old project")
    with pytest.raises(RuntimeError, match="disk full"):
        with atomic_path(target) as tmp:
            tmp.write_text("half of the new proj")
            raise RuntimeError("disk full")
    assert target.read_text() == "the old project"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.json"]


def test_an_interrupted_write_of_a_new_file_leaves_nothing(tmp_path):
    target = tmp_path / "sub" / "weights.safetensors"
    with pytest.raises(KeyboardInterrupt):
        with atomic_path(target, durable=False) as tmp:
            tmp.write_bytes(b"\0" * 100)
            raise KeyboardInterrupt
    assert not target.exists()
    assert list(target.parent.iterdir()) == []


def test_writing_creates_missing_folders(tmp_path):
    target = tmp_path / "a" / "b" / "run.json"
    atomic_write_bytes(target, b"{}", durable=False)
    assert target.read_bytes() == b"{}"


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
@pytest.mark.parametrize("mask, expected", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_a_saved_file_gets_the_mode_the_umask_gives(tmp_path, umask, mask, expected):
    umask(mask)
    atomic_write_text(tmp_path / "model.json", "{}")
    with atomic_path(tmp_path / "model.onnx", durable=False) as tmp:
        with open(tmp, "wb") as f:  # as exporters and torch.save write into the temporary
            f.write(b"onnx")
    assert _mode(tmp_path / "model.json") == expected
    assert _mode(tmp_path / "model.onnx") == expected


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
def test_every_file_a_training_run_and_an_export_write_is_readable_by_others(tmp_path, umask, registry):
    """The project, the run folder's files (run.json, metrics, checkpoints, weights) and
    the exports: with umask 022 each is 0644, as `cp` or an editor would leave it."""
    from studio.core.project import load
    from studio.export.formats import export_project
    from studio.resources import template_path
    from studio.training import train_project

    umask(0o022)
    project = load(template_path("cnn_digits"), registry)
    project.save(tmp_path / "digits.json")
    train_project(project, epochs=1, run_dir=tmp_path / "run", max_batches=2)
    export_project(project, "onnx", tmp_path / "digits.onnx", weights=tmp_path / "run")
    export_project(project, "weights", tmp_path / "digits.safetensors", weights=tmp_path / "run")
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    names = {p.name for p in written}
    assert {"digits.json", "digits.onnx", "digits.safetensors", "run.json", "weights.safetensors"} <= names
    assert any(p.suffix == ".ckpt" for p in written)
    assert {p.relative_to(tmp_path).as_posix(): oct(_mode(p)) for p in written} == {
        p.relative_to(tmp_path).as_posix(): oct(0o644) for p in written}
