"""Reading and writing weights: safetensors, state_dict files and run folders.

Nothing read here is executed: safetensors holds raw tensors only, and ``.pt``/``.ckpt``
files go through ``torch.load(weights_only=True)``, which refuses pickled code.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Mapping

import torch

from studio.core import checksums
from studio.core.atomic import atomic_write_bytes
from studio.core.files import NotReadable, read_regular
from studio.core.pickled import refusal
from studio.export.errors import ExportError

SAFETENSORS = (".safetensors",)
PICKLED = (".pt", ".pth", ".ckpt", ".bin")
MAX_BYTES = 4 * 1024**3


class WeightsError(ExportError):
    """A weights file that cannot be read or does not fit the graph."""


def find_weights_file(path: str | Path) -> Path:
    """The weights of a run folder (final weights, else the best or last checkpoint), or ``path``."""
    path = Path(path)
    if path.is_dir():
        for candidate in ("weights.safetensors", "checkpoints/best.ckpt", "checkpoints/last.ckpt"):
            if (path / candidate).is_file():
                return path / candidate
        raise WeightsError(f"{path}: this folder holds no weights.safetensors and no checkpoints/best.ckpt "
                           "or checkpoints/last.ckpt; is it a training run folder?")
    if not path.exists():
        raise WeightsError(f"{path}: no such file or folder")
    return path


def read_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """Tensors by name from a run folder or a weights file; raises :class:`WeightsError`."""
    path = find_weights_file(path)
    try:
        data = read_regular(path, MAX_BYTES, "weights file")  # never a device or pipe read forever
        checksums.verify_in_run(path, data)  # a run's file changed since it was written?
    except (checksums.ChecksumError, NotReadable) as exc:
        raise WeightsError(str(exc) if isinstance(exc, checksums.ChecksumError) else f"{path}: {exc.reason}") \
            from None
    except OSError as exc:
        raise WeightsError(f"{path}: cannot be read: {exc.strerror or exc}") from None
    suffix = path.suffix.lower()
    if suffix in SAFETENSORS:
        return _read_safetensors(path, data)
    if suffix in PICKLED:
        return _read_pickled(path, data)
    if len(data) >= 8 and int.from_bytes(data[:8], "little") < len(data):
        return _read_safetensors(path, data)  # a safetensors file under another name
    return _read_pickled(path, data)


def _read_safetensors(path: Path, data: bytes) -> dict[str, torch.Tensor]:
    from safetensors import SafetensorError
    from safetensors.torch import load

    try:
        return dict(load(data))
    except (SafetensorError, ValueError, RuntimeError, OSError) as exc:
        raise WeightsError(f"{path}: not a readable safetensors file ({exc})") from None


def _read_pickled(path: Path, data: bytes) -> dict[str, torch.Tensor]:
    import pickle
    import zipfile

    try:
        obj = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:  # torch's text recommends loading it unsafely
        raise WeightsError(refusal(path, "PyTorch weights file")) from None
    except (RuntimeError, EOFError, OSError, ValueError, zipfile.BadZipFile, KeyError) as exc:
        raise WeightsError(f"{path}: not a readable PyTorch weights file ({exc})") from None
    return state_dict_of(obj, str(path))


def state_dict_of(obj, name: str) -> dict[str, torch.Tensor]:
    """The state_dict inside what ``torch.load`` returned: a checkpoint dict (``"model"``) or a state_dict."""
    if isinstance(obj, Mapping) and "model" in obj and isinstance(obj["model"], Mapping):
        obj = obj["model"]
    elif isinstance(obj, Mapping) and "state_dict" in obj and isinstance(obj["state_dict"], Mapping):
        obj = obj["state_dict"]
    if not isinstance(obj, Mapping) or not obj:
        raise WeightsError(f"{name}: holds no tensors by name (expected a state_dict or a checkpoint with 'model')")
    bad = [str(k) for k, v in obj.items() if not isinstance(k, str) or not isinstance(v, torch.Tensor)]
    if bad:
        raise WeightsError(f"{name}: entries that are not tensors: {', '.join(bad[:5])}")
    return dict(obj)


def load_into(module: torch.nn.Module, state: Mapping[str, torch.Tensor], source: str = "weights") -> None:
    """Load every weight of ``module`` from ``state``; differences are named node by node."""
    own = module.state_dict()
    check_fits({k: v.shape for k, v in own.items()}, state, source)
    _load_by_child(module, {k: state[k].to(own[k].dtype) for k in own})


def check_fits(own: Mapping[str, torch.Size], state: Mapping[str, torch.Tensor], source: str = "weights") -> None:
    """Raise :class:`WeightsError`, naming the nodes, unless ``state`` has exactly the keys
    of ``own`` (a module's state_dict keys and shapes) in those shapes."""
    missing = [k for k in own if k not in state]
    extra = [k for k in state if k not in own]
    wrong = [f"{k} is {list(state[k].shape)} in the file but {list(own[k])} in the graph"
             for k in own if k in state and state[k].shape != own[k]]
    if missing or extra or wrong:
        parts = []
        if missing:
            parts.append(f"missing for nodes {', '.join(_nodes(missing))}")
        if extra:
            parts.append(f"not in the graph: nodes {', '.join(_nodes(extra))}")
        if wrong:
            parts.append("; ".join(wrong[:5]))
        raise WeightsError(f"{source} does not fit this graph: " + "; ".join(parts)
                           + " (use transfer learning to load the weights that match)")


def _load_by_child(module: torch.nn.Module, state: dict[str, torch.Tensor]) -> None:
    """``module.load_state_dict(state, strict=True)`` in linear time. torch's own filters
    the whole dict once per child module (quadratic: minutes for a 100,000-node graph), so
    a module with many children gets each child's share, split off in one pass."""
    children = dict(module.named_children())
    if len(children) < 2 or any(True for _ in module.parameters(recurse=False)) \
            or any(True for _ in module.buffers(recurse=False)):
        module.load_state_dict(state, strict=True)
        return
    shares: dict[str, dict[str, torch.Tensor]] = {name: {} for name in children}
    for key, value in state.items():
        head, _, rest = key.partition(".")
        shares[head][rest] = value  # every key was matched against the module's own
    for name, child in children.items():
        _load_by_child(child, shares[name])


def _nodes(keys) -> list[str]:
    out: dict[str, None] = {}
    for k in keys:
        parts = k.split(".")
        out[parts[1] if parts[0] in ("layers", "losses") and len(parts) > 1 else parts[0]] = None
    return list(out)


def _plain(state: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {k: v.detach().cpu().contiguous().clone() for k, v in state.items()}


def state_bytes(state: Mapping[str, torch.Tensor], fmt: str) -> bytes:
    """Serialise a state_dict as ``safetensors`` or a torch ``state_dict`` file."""
    if fmt == "safetensors":
        from safetensors.torch import save

        return save(_plain(state))
    buf = io.BytesIO()
    torch.save(_plain(state), buf)
    return buf.getvalue()


def save_weights(state: Mapping[str, torch.Tensor], path: str | Path) -> Path:
    """Write weights atomically; the suffix picks the format (``.safetensors``, else a state_dict)."""
    path = Path(path)
    fmt = "safetensors" if path.suffix.lower() in SAFETENSORS else "state_dict"
    atomic_write_bytes(path, state_bytes(state, fmt))
    return path
