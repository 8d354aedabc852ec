"""Values an ONNX graph fixes before it runs: constants, the weights an exporter left
as slices and concats of other weights, and declared tensor shapes. Evaluated with numpy
on the file's data only; nothing from the file is executed."""

from __future__ import annotations

import numpy as np


def tensor_dims(vi) -> list | None:
    t = vi.type.tensor_type
    if not t.HasField("shape"):
        return None
    return [d.dim_value if d.HasField("dim_value") else (d.dim_param or "?") for d in t.shape.dim]


def fold(node, consts: dict) -> np.ndarray | None:
    """The value of a layout operator whose inputs are all constants (numpy, no code from the file)."""
    from onnx import helper

    ins = [i for i in node.input if i]
    if node.op_type not in FOLDABLE or not ins or any(i not in consts for i in ins) or len(node.output) != 1:
        return None
    a = {x.name: helper.get_attribute_value(x) for x in node.attribute}
    v = [consts[i] for i in ins]
    try:
        if node.op_type == "Identity":
            return v[0]
        if node.op_type == "Concat":
            return np.concatenate(v, axis=int(a["axis"]))
        if node.op_type == "Unsqueeze":
            axes = a.get("axes", list(v[1].reshape(-1)) if len(v) > 1 else [])
            out = v[0]
            for ax in sorted(int(x) % (out.ndim + len(axes)) for x in axes):
                out = np.expand_dims(out, ax)
            return out
        if node.op_type == "Squeeze":
            axes = a.get("axes", list(v[1].reshape(-1)) if len(v) > 1 else None)
            return np.squeeze(v[0], axis=tuple(int(x) for x in axes) if axes is not None else None)
        if node.op_type == "Transpose":
            return np.transpose(v[0], a.get("perm"))
        if node.op_type == "Reshape" and not np.any(v[1] == 0):
            return v[0].reshape(v[1])
        if node.op_type == "ConstantOfShape":
            fill = constant_value(node)
            return np.full([int(d) for d in v[0].reshape(-1)], fill.reshape(-1)[0] if fill.size else 0.0,
                           dtype=fill.dtype if fill.size else np.float32)
        if node.op_type in _ARITHMETIC and len(v) == 2:
            return _ARITHMETIC[node.op_type](v[0], v[1]).astype(np.result_type(v[0], v[1]))
        if node.op_type == "Cast":
            return v[0].astype(helper.tensor_dtype_to_np_dtype(int(a["to"])))
        if node.op_type == "Slice":
            data, starts, ends = v[0], v[1], v[2]
            axes = v[3] if len(v) > 3 else np.arange(len(starts))
            steps = v[4] if len(v) > 4 else np.ones(len(starts), dtype=np.int64)
            index = [slice(None)] * data.ndim
            for st, en, ax, sp in zip(starts, ends, axes, steps):
                index[int(ax)] = slice(int(st), int(en), int(sp))
            return data[tuple(index)]
    except (ValueError, IndexError, KeyError, TypeError):
        return None
    return None


_ARITHMETIC = {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply, "Div": np.divide}
FOLDABLE = ("Identity", "Concat", "Unsqueeze", "Squeeze", "Transpose", "Reshape", "Slice", "ConstantOfShape",
             "Cast", *_ARITHMETIC)


def constant_value(node) -> np.ndarray:
    from onnx import helper, numpy_helper

    for a in node.attribute:
        value = helper.get_attribute_value(a)
        if a.name == "value":
            return numpy_helper.to_array(value)
        if a.name in ("value_int", "value_ints", "value_float", "value_floats"):
            return np.array(value)
    return np.array([])
