"""Strict JSON out: what other programs read (run files, ``--json`` lines) never holds
``NaN`` or ``Infinity``, which are not JSON; a number that is not finite becomes null."""

from __future__ import annotations

import json
import math
import os
from typing import Any


def plain(value: Any) -> Any:
    """``value`` with non-finite floats as None, paths as text and tuples as lists."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return value


def dumps(value: Any, **kwargs: Any) -> str:
    return json.dumps(plain(value), allow_nan=False, **kwargs)
