"""One user folder: preferences and the runs of unsaved projects land in the same place
on every platform, and STUDIO_USER_DIR moves both."""

from __future__ import annotations

from pathlib import Path

import pytest

from studio.core import userdir


@pytest.mark.parametrize("platform, env, expected", [
    ("linux", {}, "HOME/.local/share/layer-studio"),
    ("linux", {"XDG_DATA_HOME": "/data"}, "/data/layer-studio"),
    ("darwin", {}, "HOME/Library/Application Support/layer-studio"),
    ("win32", {"LOCALAPPDATA": "/appdata"}, "/appdata/layer-studio"),
])
def test_the_platform_folder(monkeypatch, tmp_path, platform, env, expected):
    monkeypatch.delenv("STUDIO_USER_DIR", raising=False)
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    monkeypatch.setattr(userdir.sys, "platform", platform)
    monkeypatch.setattr(Path, "home", lambda: tmp_path)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert userdir.user_dir() == Path(expected.replace("HOME", str(tmp_path)))
    assert not userdir.user_dir().exists()  # asking where it is writes nothing


@pytest.mark.parametrize("platform", ["linux", "darwin", "win32"])
def test_preferences_and_runs_share_the_folder(monkeypatch, tmp_path, platform):
    from studio.training.runs import runs_dir_for
    from studio.ui.userdata import user_dir

    monkeypatch.delenv("STUDIO_USER_DIR", raising=False)
    monkeypatch.setenv("LOCALAPPDATA", str(tmp_path / "appdata"))
    monkeypatch.setattr(userdir.sys, "platform", platform)
    monkeypatch.setattr(Path, "home", lambda: tmp_path)

    class Unsaved:
        path = None

    assert runs_dir_for(Unsaved()) == user_dir() / "runs"


def test_the_environment_overrides_it(monkeypatch, tmp_path):
    monkeypatch.setenv("STUDIO_USER_DIR", str(tmp_path / "portable"))
    assert userdir.user_dir() == tmp_path / "portable"
