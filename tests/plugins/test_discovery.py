"""Plugins are found in folders and entry points; a broken one is reported and skipped."""

from __future__ import annotations

import sys
import types
from importlib import metadata

from studio.layers import builtin_registry
from studio.plugins import load_plugins, plugin_folders

GOOD = '''
from studio.layers.spec import Ctor, LayerSpec

def _build(p, ins):
    import torch
    return Ctor(torch.nn.Identity)

def register(registry):
    registry.add(LayerSpec(id="Twice", title="Twice", category="Custom", doc="identity",
                           infer=lambda p, ins: {"out": ins["in"]}, build=_build))
'''


def test_folder_plugins_load_and_broken_ones_are_skipped(tmp_path, capsys):
    (tmp_path / "good.py").write_text(GOOD)
    (tmp_path / "syntax.py").write_text("def register(:\n")
    (tmp_path / "raises.py").write_text("raise RuntimeError('boom at import')\n")
    (tmp_path / "noreg.py").write_text("X = 1\n")
    (tmp_path / "dup.py").write_text(GOOD.replace('"Twice"', '"Conv2d"'))
    (tmp_path / "_private.py").write_text("raise SystemExit\n")
    reg = builtin_registry()
    report = load_plugins(reg, folders=[tmp_path, tmp_path / "missing"], entry_points=False)
    assert "Twice" in reg
    assert [p.rsplit("/", 1)[-1] for p in report.loaded] == ["good.py"]
    failed = {f.source.rsplit("/", 1)[-1]: f.error for f in report.failed}
    assert set(failed) == {"syntax.py", "raises.py", "noreg.py", "dup.py"}
    assert "SyntaxError" in failed["syntax.py"]
    assert "boom at import" in failed["raises.py"]
    assert "no register" in failed["noreg.py"]
    assert "already registered" in failed["dup.py"]
    assert reg.get("Conv2d").source == "builtin:conv"  # the built-in was not replaced
    assert "plugin" in capsys.readouterr().err


def test_entry_point_plugins(monkeypatch):
    module = types.ModuleType("fake_pkg_layers")
    exec(GOOD.replace('"Twice"', '"FromEntryPoint"'), module.__dict__)
    monkeypatch.setitem(sys.modules, "fake_pkg_layers", module)
    good = metadata.EntryPoint("fake", "fake_pkg_layers", "studio.layers")
    broken = metadata.EntryPoint("broken", "no_such_module_here", "studio.layers")
    monkeypatch.setattr(metadata, "entry_points", lambda group: [good, broken] if group == "studio.layers" else [])
    reg = builtin_registry()
    report = load_plugins(reg, folders=[], entry_points=True)
    assert "FromEntryPoint" in reg
    assert len(report.failed) == 1 and "no_such_module_here" in report.failed[0].error


def test_repository_plugins_folder_is_searched(monkeypatch, tmp_path):
    monkeypatch.setenv("STUDIO_PLUGIN_PATH", str(tmp_path))
    folders = plugin_folders()
    assert folders[0].name == "plugins" and folders[-1] == tmp_path
