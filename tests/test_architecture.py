"""The house rules, checked: only studio/ui/ touches Qt; the model runs without torch;
packages import only the packages below them (the contracts in pyproject.toml)."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import studio

PACKAGE = Path(studio.__file__).resolve().parent
QT = ("PySide6", "pyqtgraph", "shiboken6", "PyQt5", "PyQt6", "qtpy")


def _modules_outside_ui():
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE.parent)
        if rel.parts[1] == "ui":
            continue
        yield path, ".".join(rel.with_suffix("").parts).removesuffix(".__init__")


def test_no_qt_import_outside_ui():
    offenders = []
    for path, _ in _modules_outside_ui():
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            for name in names:
                if name.split(".")[0] in QT:
                    offenders.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno} imports {name}")
    assert offenders == []


def test_core_modules_import_with_qt_unavailable():
    """Every module outside studio/ui imports in a process where Qt cannot be imported."""
    modules = [m for _, m in _modules_outside_ui() if not m.endswith("__main__")]
    code = (
        "import sys\n"
        f"for name in {QT!r}: sys.modules[name] = None\n"
        "import importlib\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        "print('ok')\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().endswith("ok")


def test_graph_model_and_analysis_do_not_import_torch():
    code = (
        "import sys\n"
        "from studio.core.project import load\n"
        "from studio.core.analysis import analyze\n"
        "from studio.core.layout import layered_positions\n"
        "from studio.resources import template_path, template_names\n"
        "for name in template_names():\n"
        "    p = load(template_path(name)); analyze(p.graph); layered_positions(p.graph)\n"
        "import studio.cli\n"
        "print('torch' in sys.modules)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "False"


def _lint_imports(root: Path) -> subprocess.CompletedProcess:
    """Run the import contracts of ``root/pyproject.toml`` over ``root/studio``."""
    code = ("from importlinter.cli import lint_imports\n"
            "raise SystemExit(lint_imports(config_filename='pyproject.toml', no_cache=True, no_logo=True))\n")
    return subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True,
                          timeout=300, env={**os.environ, "PYTHONPATH": str(root)})


def test_packages_only_import_the_packages_below_them():
    """The contracts in pyproject.toml (layers, Qt only in studio/ui) hold for the code."""
    proc = _lint_imports(PACKAGE.parent)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "0 broken" in proc.stdout


def _lint_with_import(tmp_path: Path, module: str, imported: str) -> subprocess.CompletedProcess:
    """The contracts run over a copy of the package in which ``module`` also imports ``imported``."""
    shutil.copy(PACKAGE.parent / "pyproject.toml", tmp_path)
    shutil.copytree(PACKAGE, tmp_path / "studio", ignore=shutil.ignore_patterns("__pycache__"))
    path = tmp_path / "studio" / module
    path.write_text(path.read_text() + f"\nimport {imported}  # noqa\n")
    return _lint_imports(tmp_path)


def test_an_import_that_points_up_breaks_the_contracts(tmp_path):
    """The same check fails when the bottom of the stack imports the layers above it."""
    proc = _lint_with_import(tmp_path, "spec/roles.py", "studio.layers.registry")
    assert proc.returncode == 1
    assert "studio.spec.roles -> studio.layers.registry" in proc.stdout


def test_the_ui_importing_the_command_line_breaks_the_contracts(tmp_path):
    """The app and the command line share the packages below them, never each other's code."""
    proc = _lint_with_import(tmp_path, "ui/icons.py", "studio.cli._output")
    assert proc.returncode == 1
    assert "studio.ui does not import studio.cli BROKEN" in proc.stdout
