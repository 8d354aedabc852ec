"""Test isolation: offscreen Qt, the built-in layers plus only the plugins a test asks
for, and user folders (settings, autosave, recent files) inside a temporary directory."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _isolated_user_dirs(tmp_path_factory, monkeypatch):
    home = tmp_path_factory.mktemp("user")
    monkeypatch.setenv("STUDIO_USER_DIR", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    yield home


@pytest.fixture
def registry():
    """A fresh registry with the built-ins and the repository's plugins."""
    from studio.layers import builtin_registry
    from studio.plugins import load_plugins

    reg = builtin_registry()
    load_plugins(reg, entry_points=False)
    return reg


@pytest.fixture
def graph(registry):
    from studio.core.graph import Graph

    return Graph(registry)


@pytest.fixture(scope="session")
def digits_run(tmp_path_factory):
    """A cnn_digits project trained for a few epochs (once per session): (project file, run folder)."""
    import torch

    from studio.core.project import load
    from studio.resources import template_path
    from studio.training import train_project

    torch.set_num_threads(1)
    folder = tmp_path_factory.mktemp("digits")
    project = load(template_path("cnn_digits"))
    project.training.update(batch_size=128, schedule="none")
    path = project.save(folder / "digits.json")
    project = load(path)
    run = folder / "runs" / "first"  # where the editor lists the project's runs
    train_project(project, epochs=4, run_dir=run)
    return path, run
