"""What to say about a weights file or checkpoint that ``torch.load(weights_only=True)``
refused. torch's own text runs over six lines and recommends loading the file unsafely;
instead, one line says whether the file holds code, found by reading its pickle opcodes
(nothing is unpickled)."""

from __future__ import annotations

import pickletools
import zipfile
from pathlib import Path

# What a torch weights file names besides torch's own tensor rebuilders (torch.*).
_DATA_NAMES = {("collections", "OrderedDict"), ("_codecs", "encode"), ("builtins", "set"),
               ("builtins", "frozenset"), ("builtins", "bytearray"), ("builtins", "slice"),
               ("builtins", "complex"), ("builtins", "range")}


def refusal(path: str | Path, what: str) -> str:
    """One line for a refused file: it holds code, or it is damaged."""
    if names_code(path):
        return f"{path}: holds code (pickled Python objects, not only tensors); it was not loaded"
    return f"{path}: not a readable {what} (damaged, or not tensors); it was not loaded"


def names_code(path: str | Path) -> bool:
    """Whether the pickle in ``path`` (a plain pickle, or torch's zip with ``data.pkl``)
    names a function or class to import other than torch's tensor rebuilders and plain
    containers: something that would run when unpickled."""
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                member = next((n for n in archive.namelist() if n.endswith("data.pkl")), None)
                if member is None:
                    return False
                with archive.open(member) as stream:
                    return _scan(stream)
        with open(path, "rb") as stream:
            return _scan(stream)
    except (OSError, zipfile.BadZipFile, ValueError):
        return False


def _scan(stream) -> bool:
    strings: list[str] = []  # the last texts pushed: STACK_GLOBAL takes module and name from them
    try:
        for opcode, arg, _pos in pickletools.genops(stream):
            name = opcode.name
            if isinstance(arg, str) and "UNICODE" in name:
                strings = [*strings[-1:], arg]
            elif name in ("GLOBAL", "INST"):
                if _is_code(*str(arg).split(" ", 1)):
                    return True
            elif name == "STACK_GLOBAL":
                if len(strings) < 2 or _is_code(*strings):
                    return True
    except Exception:  # damaged from here on: what was read named nothing foreign
        return False
    return False


def _is_code(module: str, name: str = "") -> bool:
    return not (module == "torch" or module.startswith("torch.") or (module, name) in _DATA_NAMES)
