"""Build the desktop bundle with PyInstaller, then smoke-test it.

    .venv/bin/python installer/build.py [--skip-install]

Output: dist/LayerStudio/ (run dist/LayerStudio/LayerStudio) and dist/LayerStudio-<platform>.tar.gz.
The smoke test runs the bundled `--version`, `check` on a template and `devices`, so a bundle
that misses a module or a resource fails here rather than on a user's machine.
"""

from __future__ import annotations

import argparse
import platform
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    print("+", " ".join(cmd), flush=True)
    return subprocess.run(cmd, check=True, **kw)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--skip-install", action="store_true", help="PyInstaller is already installed")
    ap.add_argument("--no-archive", action="store_true")
    args = ap.parse_args()
    if not args.skip_install:
        run([sys.executable, "-m", "pip", "install", "-q", "pyinstaller>=6.10"])
    run([sys.executable, "-m", "PyInstaller", "--noconfirm", "--clean", "--distpath", str(ROOT / "dist"),
         "--workpath", str(ROOT / "build" / "pyinstaller"), str(ROOT / "installer" / "studio.spec")])
    app = ROOT / "dist" / "LayerStudio" / ("LayerStudio.exe" if sys.platform == "win32" else "LayerStudio")
    template = ROOT / "resources" / "templates" / "cnn_digits.json"
    for cmd in ([str(app), "--version"], [str(app), "check", str(template)], [str(app), "devices"]):
        out = run(cmd, capture_output=True, text=True)
        print(out.stdout.strip().splitlines()[-1] if out.stdout.strip() else "(no output)")
    size = sum(f.stat().st_size for f in app.parent.rglob("*") if f.is_file())
    print(f"bundle: {app.parent} ({size / 2**20:.0f} MB)")
    if not args.no_archive:
        archive = ROOT / "dist" / f"LayerStudio-{platform.system().lower()}-{platform.machine()}.tar.gz"
        with tarfile.open(archive, "w:gz") as tar:
            tar.add(app.parent, arcname="LayerStudio")
        print(f"archive: {archive} ({archive.stat().st_size / 2**20:.0f} MB)")
    shutil.rmtree(ROOT / "build" / "pyinstaller", ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
