"""NumPy archive: an ``.npz`` file holding inputs ``x`` and targets ``y``.

Options: ``path``; ``x_key``/``y_key`` (default "x" and "y"); ``kind`` of one sample:
"auto" ([N, F] is a vector, [N, H, W] a grey image, [N, C, H, W] an image), "image",
"sequence" ([N, T, F]) or "vector"; ``channels_last`` for [N, H, W, C] images. Integer
targets are classes, float targets are regression values. uint8 inputs are scaled to [0, 1].
Nothing is unpickled: object arrays are refused.
"""

from __future__ import annotations

import zipfile
from typing import TYPE_CHECKING

from studio.data.base import DataError, DatasetInfo, TensorData
from studio.data.importers._common import Skipped, existing_file, finish
from studio.data.registry import dataset
from studio.spec.params import Param

if TYPE_CHECKING:  # torch loads when data is read, not when the importer is declared
    import torch

def _read(path, x_key, y_key):
    import numpy as np

    try:
        with np.load(path, allow_pickle=False) as archive:
            keys = list(archive.keys())
            missing = [k for k in (x_key, y_key) if k not in keys]
            if missing:
                raise DataError(f"{path}: no array named {missing[0]!r}; the file has {', '.join(keys) or 'none'}")
            return np.asarray(archive[x_key]), np.asarray(archive[y_key])
    except DataError:
        raise
    except ValueError as exc:
        if "pickle" in str(exc).lower():
            raise DataError(f"{path}: holds Python objects, which are not loaded for safety; "
                            "save plain number arrays") from None
        raise DataError(f"{path}: not a NumPy archive ({exc})") from None
    except (OSError, zipfile.BadZipFile, EOFError) as exc:
        raise DataError(f"{path}: not a readable .npz archive ({exc})") from None


def _input_info(x: torch.Tensor, kind: str, path) -> tuple[torch.Tensor, dict]:
    shape = tuple(x.shape[1:])
    if kind == "auto":
        kind = {1: "vector", 2: "image", 3: "image"}.get(len(shape))
        if kind is None:
            raise DataError(f"{path}: x has shape {list(x.shape)}; expected [N, features], [N, H, W] or "
                            "[N, C, H, W] (set option kind to say what one sample is)")
    if kind == "vector":
        if len(shape) != 1:
            raise DataError(f"{path}: kind vector needs x of shape [N, features], got {list(x.shape)}")
        return x, {"kind": "vector", "features": shape[0]}
    if kind == "sequence":
        if len(shape) == 1:
            x, shape = x.unsqueeze(-1), shape + (1,)
        if len(shape) != 2:
            raise DataError(f"{path}: kind sequence needs x of shape [N, steps, features], got {list(x.shape)}")
        return x, {"kind": "sequence", "length": shape[0], "features": shape[1]}
    if len(shape) == 2:
        x, shape = x.unsqueeze(1), (1,) + shape
    if len(shape) != 3:
        raise DataError(f"{path}: kind image needs x of shape [N, H, W] or [N, C, H, W], got {list(x.shape)}")
    return x, {"kind": "image", "channels": shape[0], "height": shape[1], "width": shape[2]}


@dataset("npz", "A NumPy .npz file with arrays x (inputs) and y (classes or values)", builtin=False, params=(
    Param("path", "file", None, choices=(".npz",), doc="The NumPy archive"),
    Param("x_key", "str", "x", doc="The array of inputs"),
    Param("y_key", "str", "y", doc="The array of targets"),
    Param("kind", "choice", "auto", choices=("auto", "image", "sequence", "vector"),
          doc="What one sample is (auto: [N, F] a vector, [N, H, W] or [N, C, H, W] an image)"),
    Param("channels_last", "bool", False, doc="Images stored as [N, H, W, C]")))
def load_npz(seed: int = 0, val_split: float = 0.2, path: str | None = None, x_key: str = "x", y_key: str = "y",
             kind: str = "auto", channels_last: bool = False):
    import torch

    import numpy as np

    path = existing_file(path, ".npz file")
    xa, ya = _read(path, x_key, y_key)
    for key, a in ((x_key, xa), (y_key, ya)):
        if a.dtype.kind not in "biuf":
            raise DataError(f"{path}: array {key!r} holds {a.dtype}, not numbers")
        if a.ndim == 0 or a.shape[0] == 0:
            raise DataError(f"{path}: array {key!r} has no samples (shape {list(a.shape)})")
    if xa.shape[0] != ya.shape[0]:
        raise DataError(f"{path}: {x_key!r} has {xa.shape[0]} samples but {y_key!r} has {ya.shape[0]}")
    scale = 255.0 if xa.dtype == np.uint8 else 1.0
    x = torch.from_numpy(np.ascontiguousarray(xa).astype(np.float32)) / scale
    if channels_last:
        if x.dim() != 4:
            raise DataError(f"{path}: channels_last needs x of shape [N, H, W, C], got {list(x.shape)}")
        x = x.permute(0, 3, 1, 2).contiguous()
        kind = "image" if kind == "auto" else kind

    skipped = Skipped()
    flat = x.reshape(len(x), -1)
    finite = torch.isfinite(flat).all(1)
    if ya.dtype.kind == "f":
        finite &= torch.isfinite(torch.from_numpy(ya.astype(np.float32)).reshape(len(ya), -1)).all(1)
    for i in torch.nonzero(~finite).flatten()[:1000].tolist():
        skipped.add(path, f"sample {i} holds NaN or infinity")
    if int(finite.sum()) == 0:
        raise DataError(f"{path}: every sample holds NaN or infinity")

    x, spec = _input_info(x, kind, path)
    if ya.dtype.kind in "biu":
        if ya.ndim != 1:
            raise DataError(f"{path}: integer targets {y_key!r} must be one class per sample, shape [N], "
                            f"got {list(ya.shape)}")
        if ya.min() < 0:
            raise DataError(f"{path}: class {int(ya.min())} in {y_key!r} is negative; classes count from 0")
        y = torch.from_numpy(ya.astype(np.int64))
        task, classes = "classification", [str(c) for c in range(int(ya.max()) + 1)]
    else:
        y = torch.from_numpy(ya.astype(np.float32))
        y = y.unsqueeze(1) if y.dim() == 1 else y
        task, classes = "regression", None
    keep = torch.nonzero(finite).flatten()
    info = DatasetInfo("npz", task, f"Arrays from {path.name}", classes=classes, inputs={"x": spec},
                       extra={"path": str(path)})
    return finish(TensorData({"x": x[keep], "y": y[keep]}), info, skipped, seed, val_split)
