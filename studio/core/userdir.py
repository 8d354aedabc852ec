"""The user's Layer Studio folder: preferences, recent files, autosaves, and the runs of
projects that have no folder of their own. One place decides where it is.

``STUDIO_USER_DIR`` overrides it (tests and portable installs). Otherwise it is the
platform's data folder, as Qt's ``GenericDataLocation`` names it: ``$XDG_DATA_HOME`` or
``~/.local/share`` on Linux, ``~/Library/Application Support`` on macOS, ``%LOCALAPPDATA%``
on Windows; with ``layer-studio`` below it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

APP_FOLDER = "layer-studio"


def platform_data_dir() -> Path:
    home = Path.home()
    if sys.platform == "win32":
        return Path(os.environ.get("LOCALAPPDATA") or home / "AppData" / "Local")
    if sys.platform == "darwin":
        return home / "Library" / "Application Support"
    return Path(os.environ.get("XDG_DATA_HOME") or home / ".local" / "share")


def user_dir() -> Path:
    """The folder (not created here: reading a setting must not write anything)."""
    env = os.environ.get("STUDIO_USER_DIR")
    return Path(env) if env else platform_data_dir() / APP_FOLDER
