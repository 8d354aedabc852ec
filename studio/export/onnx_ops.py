"""ONNX operators mapped onto registry layers, one small function per operator.

Each value of the ONNX graph is tracked as a :class:`Val`: the Layer Studio port that
holds it, plus a *view* for the layouts ONNX uses around recurrent layers (time-major
sequences, the LSTM's ``[T, dirs, B, H]`` output), so that the transposes and squeezes
an exporter adds around an LSTM fold back into the one LSTM node they came from.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import torch


class Unmapped(Exception):
    """This operator (with these attributes) has no Layer Studio layer; the text says why."""


@dataclass(frozen=True)
class Val:
    node: str
    port: str = "out"
    view: str = "plain"  # plain | time_major | lstm_y | lstm_y_tbdh | lstm_h | lstm_c
    rank: int | None = None


def _attrs(node) -> dict:
    from onnx import helper

    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def _square(values, what: str) -> int:
    values = list(values)
    if len(set(values)) != 1:
        raise Unmapped(f"non-square {what} {values}")
    return int(values[0])


def _pads(pads, n: int) -> int:
    pads = list(pads) or [0] * (2 * n)
    if pads[:n] != pads[n:]:
        raise Unmapped(f"asymmetric padding {pads}")
    return _square(pads[:n], "padding")


def _onnx_pads(ctx, node, a, n: int, kernel: list[int], dilations: list[int] | None = None) -> list[int]:
    """The explicit [begin..., end...] pads, with auto_pad worked out from the input's size."""
    auto = a.get("auto_pad", b"NOTSET")
    auto = auto.decode() if isinstance(auto, bytes) else auto
    if auto in ("NOTSET", ""):
        return [int(v) for v in a.get("pads", [])] or [0] * (2 * n)
    if auto == "VALID":
        return [0] * (2 * n)
    dims = ctx.dims(node.input[0])
    if dims is None or not all(isinstance(d, int) for d in dims[2:]):
        raise Unmapped(f"auto_pad {auto} over an input of unknown size")
    strides = list(a.get("strides", [1] * n))
    dilations = dilations or [1] * n
    begin, end = [], []
    for d, k, st, dl in zip(dims[2:], kernel, strides, dilations):
        total = max(0, (-(-d // st) - 1) * st + (k - 1) * dl + 1 - d)
        small, big = total // 2, total - total // 2
        begin.append(big if auto == "SAME_LOWER" else small)
        end.append(small if auto == "SAME_LOWER" else big)
    return begin + end


def _split_pads(ctx, node, x: "Val", pads: list[int], n: int, value: float = 0.0) -> tuple["Val", int]:
    """Even pads stay the layer's padding; uneven ones become an explicit Pad node before it."""
    if pads[:n] == pads[n:] and len(set(pads[:n])) == 1:
        return x, int(pads[0])
    order = []
    for i in reversed(range(n)):  # Pad counts from the last axis
        order += [int(pads[i]), int(pads[n + i])]
    (padded,) = ctx.layer(node, "Pad", {"pads": order, "mode": "constant", "value": value}, [x])
    return padded, 0


def _t(array) -> torch.Tensor:
    array = np.asarray(array)
    if array.dtype.kind == "f" and array.dtype != np.float32:
        raise Unmapped(f"{array.dtype} weights: Layer Studio computes in float32")
    array = np.ascontiguousarray(array)  # a copy only where the layout needs one
    if array.flags.writeable:
        return torch.from_numpy(array)
    # A read-only view of the file's bytes (a weight as stored): shared, not copied; the
    # state is saved or copied into modules, never changed in place.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return torch.from_numpy(array)


def conv(ctx, node, a):
    x, w = ctx.data(node.input[0]), ctx.const(node.input[1])
    n = w.ndim - 2
    if n not in (1, 2):
        raise Unmapped(f"{n}-d convolution")
    kernel = list(a.get("kernel_shape", w.shape[2:]))
    k = _square(kernel, "kernel")
    dilation = _square(a.get("dilations", [1] * n), "dilation")
    pads = _onnx_pads(ctx, node, a, n, kernel, [dilation] * n)
    params = {"out_channels": int(w.shape[0]), "kernel_size": k,
              "stride": _square(a.get("strides", [1] * n), "stride"), "padding": 0,
              "dilation": dilation, "groups": int(a.get("group", 1)),
              "bias": len(node.input) > 2 and bool(node.input[2])}
    weights = {"weight": _t(w)}
    if params["bias"]:
        weights["bias"] = _t(ctx.const(node.input[2]))
    x, params["padding"] = _split_pads(ctx, node, x, pads, n)
    return ctx.layer(node, f"Conv{n}d", params, [x], weights)


def conv_transpose(ctx, node, a):
    x, w = ctx.data(node.input[0]), ctx.const(node.input[1])
    if w.ndim != 4:
        raise Unmapped(f"{w.ndim - 2}-d transposed convolution")
    if int(a.get("group", 1)) != 1 or any(d != 1 for d in a.get("dilations", [1, 1])) or "output_shape" in a:
        raise Unmapped("groups, dilations or an output_shape")
    auto = a.get("auto_pad", b"NOTSET")
    if (auto.decode() if isinstance(auto, bytes) else auto) not in ("NOTSET", "VALID", ""):
        raise Unmapped("auto_pad")
    bias = len(node.input) > 2 and bool(node.input[2])
    params = {"out_channels": int(w.shape[1]), "kernel_size": _square(a.get("kernel_shape", w.shape[2:]), "kernel"),
              "stride": _square(a.get("strides", [1, 1]), "stride"), "padding": _pads(a.get("pads", []), 2),
              "output_padding": _square(a.get("output_padding", [0, 0]), "output padding"), "bias": bias}
    weights = {"weight": _t(w)}
    if bias:
        weights["bias"] = _t(ctx.const(node.input[2]))
    return ctx.layer(node, "ConvTranspose2d", params, [x], weights)


def gemm(ctx, node, a):
    if a.get("transA", 0):
        raise Unmapped("a transposed input (transA)")
    x, w = ctx.data(node.input[0]), ctx.const(node.input[1])
    w = w if a.get("transB", 0) else w.T
    alpha, beta = float(a.get("alpha", 1.0)), float(a.get("beta", 1.0))
    weights = {"weight": _t(w * np.float32(alpha) if alpha != 1.0 else w)}
    bias = len(node.input) > 2 and bool(node.input[2])
    if bias:
        b = ctx.const(node.input[2])
        if b.size not in (1, w.shape[0]) or (b.ndim == 2 and b.shape[0] != 1):
            raise Unmapped("a bias that is not one value per output")
        b = np.broadcast_to(b.reshape(-1), (w.shape[0],))
        weights["bias"] = _t(b * np.float32(beta) if beta != 1.0 else b)
    return ctx.layer(node, "Linear", {"out_features": int(w.shape[0]), "bias": bias}, [x], weights)


def matmul(ctx, node, a):
    if not ctx.is_const(node.input[1]) or ctx.const(node.input[1]).ndim != 2:
        raise Unmapped("a product of two tensors (only a tensor times a weight matrix maps to Linear)")
    x, w = ctx.data(node.input[0]), ctx.const(node.input[1])
    return ctx.layer(node, "Linear", {"out_features": int(w.shape[1]), "bias": False}, [x], {"weight": _t(w.T)})


_ARITH = {"Add": "add", "Sub": "sub", "Mul": "mul", "Div": "div", "Pow": "pow", "Min": "min", "Max": "max",
          "Sum": "add"}


def arithmetic(ctx, node, a):
    """Add, Sub, Mul, Div, Pow, Min, Max and Sum: with a constant operand, two tensors that
    broadcast, or (Add, Mul, Sum) any number of equal-shaped tensors."""
    op = _ARITH[node.op_type]
    names = [i for i in node.input if i]
    consts = [i for i in names if ctx.is_const(i)]
    if len(names) == 1:
        return [ctx.data(names[0])]
    if consts:
        if len(names) != 2 or len(consts) != 1:
            raise Unmapped(f"{node.op_type} of {len(names)} operands, {len(consts)} of them constant")
        other = next(i for i in names if not ctx.is_const(i))
        v, c = ctx.data(other), ctx.const(consts[0])
        if ctx.opset < 7 and a.get("broadcast") and "axis" in a:  # old broadcasting, aligned at axis
            rank = ctx.rank(other)
            c = c.reshape(c.shape + (1,) * (rank - int(a["axis"]) % rank - c.ndim))
        if op == "add" and ctx.fold_bias(v, c):
            return [v]
        shape = _constant_shape(c, ctx.rank(other))
        (out,) = ctx.layer(node, "ConstantOp", {"op": op, "shape": list(shape) or [1],
                                                "reverse": names[0] == consts[0]}, [v],
                           {"value": _t(c.reshape(shape or (1,)))})
        return [out]
    xs = [ctx.data(i) for i in names]
    dims = [ctx.dims(i) for i in names]
    if op in ("add", "mul") and all(d is not None and d == dims[0] for d in dims):
        return ctx.layer(node, "Add" if op == "add" else "Multiply", {"inputs": len(xs)}, xs)
    out = xs[0]
    for i, x in enumerate(xs[1:]):  # pairwise, broadcasting
        (out,) = ctx.layer(node, "Binary", {"op": op}, [out, x])
    return [out]


def _constant_shape(c: np.ndarray, rank: int) -> tuple[int, ...]:
    """A constant's shape as it broadcasts over one sample: leading axes of 1 dropped, and
    refused when it would vary over the batch."""
    shape = list(c.shape)
    while shape and shape[0] == 1 and len(shape) >= rank:
        shape.pop(0)
    if len(shape) >= rank:
        raise Unmapped(f"a constant operand of shape {list(c.shape)} that differs across the batch")
    return tuple(int(d) for d in shape)


def concat(ctx, node, a):
    xs = [ctx.data(i) for i in node.input]
    if len(xs) < 2:
        return xs
    axis = int(a.get("axis", 1))  # required from opset 4; 1 before
    if axis == 0 and all(x.view in ("lstm_h", "lstm_c") for x in xs):
        # Stacked layers' final states [layers, B, H]: only the top layer's (the last) is ever read.
        return [xs[-1]]
    return ctx.layer(node, "Concat", {"inputs": len(xs), "axis": axis}, xs)


def activation(type_id, **param_of):
    def handler(ctx, node, a):
        params = {ours: (a.get(theirs, default)) for ours, (theirs, default) in param_of.items()}
        return ctx.layer(node, type_id, params, [ctx.data(node.input[0])])
    return handler


def softmax(type_id):
    """Softmax/LogSoftmax. Before opset 13 the axis defaults to 1 and the input is coerced to
    2-D: one softmax over everything from the axis on, not over the axis alone."""
    def handler(ctx, node, a):
        x = ctx.data(node.input[0])
        if ctx.opset >= 13:
            return ctx.layer(node, type_id, {"dim": int(a.get("axis", -1))}, [x])
        rank = ctx.rank(node.input[0])
        axis = int(a.get("axis", 1))
        axis = axis + rank if axis < 0 else axis
        if axis == rank - 1:
            return ctx.layer(node, type_id, {"dim": -1}, [x])
        if axis == 0:
            raise Unmapped(f"a {node.op_type} over the batch axis")
        dims = ctx.dims(node.input[0])
        if dims is None or not all(isinstance(d, int) and d > 0 for d in dims[1:]):
            raise Unmapped(f"a {node.op_type} (opset {ctx.opset}) from axis {axis} over a shape that is not known")
        if all(d == 1 for d in dims[axis + 1:]):  # e.g. [B, 1000, 1, 1]: the same as over the axis alone
            return ctx.layer(node, type_id, {"dim": axis}, [x])
        flat = ctx.layer(node, "Reshape", {"shape": [*dims[1:axis], int(np.prod(dims[axis:]))]}, [x])
        out = ctx.layer(node, type_id, {"dim": -1}, flat)
        return ctx.layer(node, "Reshape", {"shape": list(dims[1:])}, out)
    return handler


def gelu(ctx, node, a):
    if a.get("approximate", "none") not in ("none", b"none"):
        raise Unmapped("tanh-approximated GELU")
    return ctx.layer(node, "GELU", {}, [ctx.data(node.input[0])])


FLOAT32_LOWEST = float(np.finfo(np.float32).min)  # pads a max pool: never the largest of a window


def pool(kind):
    def handler(ctx, node, a):
        x = ctx.data(node.input[0])
        k = list(a["kernel_shape"])
        n = len(k)
        if n not in (1, 2):
            raise Unmapped(f"{n}-d pooling")
        if a.get("ceil_mode", 0):
            raise Unmapped("ceil_mode")
        if any(d != 1 for d in a.get("dilations", [1] * n)):
            raise Unmapped("dilated pooling")
        if kind == "Max" and len(node.output) > 1 and node.output[1]:
            raise Unmapped("the indices output of a max pool")
        size, stride = _square(k, "window"), _square(a.get("strides", [1] * n), "stride")
        pads = _onnx_pads(ctx, node, a, n, k)
        even = pads[:n] == pads[n:] and len(set(pads[:n])) == 1 and 2 * pads[0] <= size
        exclude = kind == "Avg" and not a.get("count_include_pad", 0)
        if kind == "Avg" and exclude and any(pads) and not even:
            dims = ctx.dims(node.input[0])
            if dims is not None and all(isinstance(d, int) and d + pads[i] + pads[n + i] - size < stride
                                        and pads[i] + d <= size for i, d in enumerate(dims[2:])):
                # one window over the whole input: the mean of the input, whatever the padding
                return ctx.layer(node, f"AdaptiveAvgPool{n}d", {"output_size": [1] * n}, [x])
            order = []
            for i in reversed(range(n)):
                order += [pads[i], pads[n + i]]
            return ctx.layer(node, "PaddedAvgPool", {"kernel_size": size, "stride": stride, "pads": order}, [x])
        if even:
            padding = int(pads[0])
        else:
            x, padding = _split_pads(ctx, node, x, pads, n, FLOAT32_LOWEST if kind == "Max" else 0.0)
        params = {"kernel_size": size, "stride": stride, "padding": padding}
        if kind == "Avg":
            params["count_include_pad"] = not exclude
        return ctx.layer(node, f"{kind}Pool{n}d", params, [x])
    return handler


def global_avg(ctx, node, a):
    x = ctx.data(node.input[0])
    n = ctx.rank(node.input[0]) - 2
    if n not in (1, 2):
        raise Unmapped(f"{n}-d global pooling")
    return ctx.layer(node, f"AdaptiveAvgPool{n}d", {"output_size": [1] * n}, [x])


def flatten(ctx, node, a):
    if a.get("axis", 1) != 1:
        raise Unmapped(f"Flatten at axis {a.get('axis')}")
    if ctx.rank(node.input[0]) == 2:
        return [ctx.data(node.input[0])]
    return ctx.layer(node, "Flatten", {}, [ctx.data(node.input[0])])


def reshape(ctx, node, a):
    x = ctx.data(node.input[0])
    if x.view == "lstm_y_tbdh":  # one direction: [T, B, 1, H] -> [T, B, H]
        return [Val(x.node, "seq", "time_major", 3)]
    out = ctx.dims(node.output[0])
    if out is None or len(out) < 2 or not all(isinstance(d, int) and d > 0 for d in out[1:]):
        raise Unmapped("a reshape whose target size is not known")
    if ctx.rank(node.input[0]) > 2 and len(out) == 2:
        return ctx.layer(node, "Flatten", {}, [x])
    return ctx.layer(node, "Reshape", {"shape": list(out[1:])}, [x])


def transpose(ctx, node, a):
    x = ctx.data(node.input[0])
    perm = list(a.get("perm", []))
    if x.view == "lstm_y" and perm == [0, 2, 1, 3]:  # [T, dirs, B, H] -> [T, B, dirs, H], then a Reshape
        return [Val(x.node, x.port, "lstm_y_tbdh", 4)]
    if x.view in ("plain", "time_major") and perm == [1, 0, 2]:
        return [Val(x.node, x.port, "time_major" if x.view == "plain" else "plain", 3)]
    if x.view == "plain" and perm and perm[0] == 0:
        return ctx.layer(node, "Permute", {"order": perm[1:]}, [x])
    raise Unmapped(f"a transpose {perm} that moves the batch axis")


def batchnorm(ctx, node, a):
    x = ctx.data(node.input[0])
    rank = ctx.rank(node.input[0])
    if ctx.opset < 9 and a.get("spatial", 1) == 0:
        raise Unmapped("statistics per position, not per channel (spatial=0)")
    if a.get("training_mode", 0) or len([o for o in node.output if o]) > 1:
        raise Unmapped("a batch normalization in training mode")
    scale, bias, mean, var = (ctx.const(i) for i in node.input[1:5])
    weights = {"weight": _t(scale), "bias": _t(bias), "running_mean": _t(mean), "running_var": _t(var),
               "num_batches_tracked": torch.tensor(0)}
    params = {"eps": float(a.get("epsilon", 1e-5)), "momentum": round(1.0 - float(a.get("momentum", 0.9)), 6)}
    return ctx.layer(node, "BatchNorm2d" if rank == 4 else "BatchNorm1d", params, [x], weights)


def passthrough(ctx, node, a):
    if node.op_type == "Dropout" and len(node.input) > 2 and node.input[2] and \
            (not ctx.is_const(node.input[2]) or ctx.const(node.input[2]).any()):
        raise Unmapped("a dropout in training mode")
    return [ctx.data(node.input[0])]


def recurrent(ctx, node, a):
    """ONNX LSTM/GRU (one layer, forward) over a batch-first sequence -> an LSTM/GRU node."""
    cell = node.op_type
    x = ctx.data(node.input[0])
    if x.view != "time_major":
        raise Unmapped(f"a {cell} over a tensor that is not a batch-first sequence")
    direction = a.get("direction", b"forward")
    direction = direction.decode() if isinstance(direction, bytes) else direction
    if direction not in ("forward", "bidirectional"):
        raise Unmapped(f"a {direction} {cell}")
    dirs = 2 if direction == "bidirectional" else 1
    if a.get("layout", 0) or a.get("input_forget", 0) or "activations" in a or "clip" in a:
        raise Unmapped(f"{cell} options other than the defaults")
    if cell == "GRU" and not a.get("linear_before_reset", 0):
        raise Unmapped("a GRU with linear_before_reset=0 (PyTorch's GRU resets after the product)")
    extra = list(node.input[4:])
    if extra and extra[0]:
        raise Unmapped(f"a {cell} with sequence lengths")
    states = extra[1:3] if cell == "LSTM" else extra[1:2]
    for name in states:
        if name and not ctx.is_zeros(name):
            raise Unmapped(f"a {cell} with a non-zero initial state")
    if len(extra) > 3 and extra[3]:
        raise Unmapped("an LSTM with peepholes")
    hidden = int(a["hidden_size"])
    gates = 4 if cell == "LSTM" else 3
    w, r = ctx.const(node.input[1]), ctx.const(node.input[2])
    has_b = len(node.input) > 3 and node.input[3]
    b = ctx.const(node.input[3]) if has_b else np.zeros((dirs, 2 * gates * hidden), np.float32)
    # ONNX orders the gates iofc (LSTM) and zrh (GRU); PyTorch ifgo and rzn.
    blocks = (0, 2, 3, 1) if cell == "LSTM" else (1, 0, 2)
    order = np.concatenate([np.arange(g * hidden, (g + 1) * hidden) for g in blocks])
    n = gates * hidden
    weights = {}
    for d, suffix in enumerate(("", "_reverse")[:dirs]):
        weights.update({f"rnn.weight_ih_l0{suffix}": _t(w[d][order]), f"rnn.weight_hh_l0{suffix}": _t(r[d][order]),
                        f"rnn.bias_ih_l0{suffix}": _t(b[d][:n][order]), f"rnn.bias_hh_l0{suffix}": _t(b[d][n:][order])})
    params = {"hidden_size": hidden, "num_layers": 1, "bidirectional": dirs == 2, "dropout": 0.0}
    (seq,) = ctx.layer(node, cell, params, [Val(x.node, x.port, "plain", 3)], weights, port="seq")
    outs = [Val(seq.node, "seq", "lstm_y"), Val(seq.node, "h", "lstm_h"), Val(seq.node, "c", "lstm_c")]
    return outs[: len(node.output)]


def squeeze(ctx, node, a):
    x = ctx.data(node.input[0])
    axes = list(a.get("axes", [])) or (list(ctx.const(node.input[1]).reshape(-1)) if len(node.input) > 1 else [])
    if x.view == "lstm_y" and axes == [1]:
        return [Val(x.node, "seq", "time_major", 3)]
    if x.view == "lstm_h" and axes == [0] and not ctx.bidirectional(x.node):
        return [Val(x.node, "last", "plain", 2)]
    raise Unmapped(f"squeeze of axes {axes}")


def gather(ctx, node, a):
    if ctx.is_const(node.input[0]):
        return embedding(ctx, node, a)
    x = ctx.data(node.input[0])
    if not ctx.is_const(node.input[1]):
        raise Unmapped("a gather with computed indices")
    index = ctx.const(node.input[1])
    axis = int(a.get("axis", 0))
    last = index.ndim == 0 and int(index) == -1
    if last and x.view in ("plain", "time_major", "lstm_h") and ctx.bidirectional(x.node):
        raise Unmapped("the last step of a bidirectional sequence (the backward direction's is its first)")
    if last and x.port == "seq" and ((x.view == "plain" and axis == 1) or (x.view == "time_major" and axis == 0)):
        return [Val(x.node, "last", "plain", 2)]
    if last and x.view == "lstm_h" and axis == 0:  # h[-1]: one layer, one direction, so the last step
        return [Val(x.node, "last", "plain", 2)]
    raise Unmapped("a gather other than the last step of an LSTM's sequence")


def lrn(ctx, node, a):
    size = int(a["size"])
    if size % 2 == 0:
        raise Unmapped(f"an even size {size} (ONNX and PyTorch centre an even window differently)")
    params = {"size": size, "alpha": float(a.get("alpha", 1e-4)), "beta": float(a.get("beta", 0.75)),
              "k": float(a.get("bias", 1.0))}
    return ctx.layer(node, "LocalResponseNorm", params, [ctx.data(node.input[0])])


def prelu(ctx, node, a):
    x, slope = ctx.data(node.input[0]), ctx.const(node.input[1])
    rank = ctx.rank(node.input[0])
    shape = [d for d in slope.shape]
    while shape and shape[0] == 1 and len(shape) >= rank:
        shape.pop(0)
    per_channel = len(shape) == rank - 1 and all(d == 1 for d in shape[1:])
    if slope.size != 1 and not per_channel:
        raise Unmapped(f"slopes of shape {list(slope.shape)}: PReLU takes one, or one per channel")
    return ctx.layer(node, "PReLU", {"num_parameters": int(slope.size)}, [x], {"weight": _t(slope.reshape(-1))})


def selu(ctx, node, a):
    if abs(a.get("alpha", 1.67326319217681884765625) - 1.6732632) > 1e-6 or \
            abs(a.get("gamma", 1.05070102214813232421875) - 1.0507010) > 1e-6:
        raise Unmapped("alpha or gamma other than the self-normalising constants")
    return ctx.layer(node, "SELU", {}, [ctx.data(node.input[0])])


def clip(ctx, node, a):
    """Bounds are attributes before opset 11 and optional inputs from it."""
    lo, hi = float(np.finfo(np.float32).min), float(np.finfo(np.float32).max)
    if ctx.opset < 11:
        lo, hi = float(a.get("min", lo)), float(a.get("max", hi))
    else:
        ins = list(node.input) + ["", ""]
        lo = float(ctx.const(ins[1]).reshape(-1)[0]) if ins[1] else lo
        hi = float(ctx.const(ins[2]).reshape(-1)[0]) if ins[2] else hi
    if not lo < hi:
        raise Unmapped(f"min {lo:g} not below max {hi:g}")
    return ctx.layer(node, "Clip", {"min": lo, "max": hi}, [ctx.data(node.input[0])])


def function(fn):
    def handler(ctx, node, a):
        return ctx.layer(node, "Function", {"fn": fn}, [ctx.data(node.input[0])])
    return handler


def reduce(op, axes_input_from):
    """ReduceMean/Sum/Max/Min: axes are an attribute before ``axes_input_from``, an input from it."""
    def handler(ctx, node, a):
        x = ctx.data(node.input[0])
        if ctx.opset < axes_input_from:
            axes = list(a.get("axes", []))
        else:
            axes = list(ctx.const(node.input[1]).reshape(-1)) if len(node.input) > 1 and node.input[1] else []
        if not axes:
            if a.get("noop_with_empty_axes", 0):
                return [x]
            raise Unmapped("a reduction over every axis, the batch too")
        rank = ctx.rank(node.input[0])
        axes = sorted({int(v) % rank for v in axes})
        if 0 in axes:
            raise Unmapped("a reduction over the batch axis")
        return ctx.layer(node, "Reduce", {"op": op, "axes": axes, "keepdim": bool(a.get("keepdims", 1))}, [x])
    return handler


def embedding(ctx, node, a):
    """Gather rows of a weight by token ids: an Embedding (how exporters write one)."""
    table = ctx.const(node.input[0])
    if table.ndim != 2 or int(a.get("axis", 0)) != 0:
        raise Unmapped("a gather from a weight that is not a [vocabulary, features] table")
    ids = ctx.data(node.input[1])
    params = {"num_embeddings": int(table.shape[0]), "embedding_dim": int(table.shape[1])}
    return ctx.layer(node, "Embedding", params, [ids], {"weight": _t(table)})


def split(ctx, node, a):
    x = ctx.data(node.input[0])
    rank = ctx.rank(node.input[0])
    axis = int(a.get("axis", 0)) % rank
    if axis == 0:
        raise Unmapped("a split of the batch axis")
    dims = ctx.dims(node.input[0])
    if dims is None or not isinstance(dims[axis], int):
        raise Unmapped("a split of an axis of unknown size")
    if ctx.opset < 13:
        sizes = list(a.get("split", []))
    else:
        sizes = list(ctx.const(node.input[1]).reshape(-1)) if len(node.input) > 1 and node.input[1] else []
    n = len(node.output)
    if not sizes:  # equal parts (from opset 18 num_outputs, the last one smaller)
        part = -(-dims[axis] // n)
        sizes = [part] * (n - 1) + [dims[axis] - part * (n - 1)]
    sizes = [int(v) for v in sizes]
    if len(sizes) == 1:
        return [x]
    (first,) = ctx.layer(node, "Split", {"axis": axis, "sizes": sizes}, [x], port="out1")
    return [Val(first.node, f"out{i + 1}") for i in range(len(sizes))]


def slice_(ctx, node, a):
    """Starts, ends, axes and steps are attributes before opset 10, inputs from it."""
    x = ctx.data(node.input[0])
    if ctx.opset < 10:
        starts, ends = list(a["starts"]), list(a["ends"])
        axes, steps = list(a.get("axes", range(len(starts)))), [1] * len(starts)
    else:
        ins = list(node.input) + ["", ""]
        starts, ends = (list(ctx.const(i).reshape(-1)) for i in ins[1:3])
        axes = list(ctx.const(ins[3]).reshape(-1)) if ins[3] else list(range(len(starts)))
        steps = list(ctx.const(ins[4]).reshape(-1)) if ins[4] else [1] * len(starts)
    rank = ctx.rank(node.input[0])
    dims = ctx.dims(node.input[0]) or [None] * rank
    limit = 2**31 - 1
    out = x
    for start, end, axis, step in zip(starts, ends, axes, steps):
        start, end, axis, step = int(start), int(end), int(axis) % rank, int(step)
        if step < 1:
            raise Unmapped("a reversed slice")
        if axis == 0:
            if start == 0 and end >= limit and step == 1:
                continue  # the whole batch
            raise Unmapped("a slice of the batch axis")
        d = dims[axis]
        if not isinstance(d, int):
            raise Unmapped("a slice of an axis of unknown size")
        end = min(end, d) if end >= 0 else max(end, -d - 1)
        if start == 0 and end == d and step == 1:
            continue
        (out,) = ctx.layer(node, "Slice", {"axis": axis, "start": max(min(start, d), -d), "end": end,
                                           "step": step}, [out])
    return [out]


def tile(ctx, node, a):
    reps = [int(v) for v in ctx.const(node.input[1]).reshape(-1)]
    if not reps or reps[0] != 1:
        raise Unmapped("a tile that repeats the batch")
    if all(r == 1 for r in reps):
        return [ctx.data(node.input[0])]
    return ctx.layer(node, "Tile", {"repeats": reps[1:]}, [ctx.data(node.input[0])])


def instance_norm(ctx, node, a):
    x = ctx.data(node.input[0])
    scale, bias = ctx.const(node.input[1]), ctx.const(node.input[2])
    return ctx.layer(node, "InstanceNorm", {"eps": float(a.get("epsilon", 1e-5))}, [x],
                     {"weight": _t(scale), "bias": _t(bias)})


def pad(ctx, node, a):
    """Pads are an attribute before opset 11, an input from it; axes (opset 18) pick the axes."""
    x = ctx.data(node.input[0])
    rank = ctx.rank(node.input[0])
    mode = a.get("mode", b"constant")
    mode = mode.decode() if isinstance(mode, bytes) else mode
    if mode not in ("constant", "reflect", "edge"):
        raise Unmapped(f"{mode} padding")
    if ctx.opset < 11:
        pads, value = [int(v) for v in a["pads"]], float(a.get("value", 0.0))
        axes = list(range(rank))
    else:
        ins = list(node.input) + ["", "", ""]
        pads = [int(v) for v in ctx.const(ins[1]).reshape(-1)]
        value = float(ctx.const(ins[2]).reshape(-1)[0]) if ins[2] and ctx.const(ins[2]).size else 0.0
        axes = [int(v) % rank for v in ctx.const(ins[3]).reshape(-1)] if ins[3] else list(range(rank))
    n = len(axes)
    full = [0] * (2 * rank)
    for i, axis in enumerate(axes):
        full[axis], full[rank + axis] = pads[i], pads[n + i]
    if full[0] or full[rank]:
        raise Unmapped("padding of the batch axis")
    order = []
    for axis in reversed(range(1, rank)):
        order += [full[axis], full[rank + axis]]
    while len(order) > 2 and order[-2:] == [0, 0]:
        order = order[:-2]
    if not any(order):
        return [x]
    params = {"pads": order, "mode": {"edge": "replicate"}.get(mode, mode), "value": value}
    return ctx.layer(node, "Pad", params, [x])


def reshape_to_output(ctx, node, a):
    """Squeeze or Unsqueeze of a computed tensor: a Reshape to the output's known shape."""
    x = ctx.data(node.input[0])
    if x.view != "plain":
        return squeeze(ctx, node, a)
    out = ctx.dims(node.output[0])
    if out is None or len(out) < 2 or not all(isinstance(d, int) and d > 0 for d in out[1:]):
        raise Unmapped(f"a {node.op_type.lower()} whose result's size is not known")
    if len(out) == ctx.rank(node.input[0]):
        return [x]
    return ctx.layer(node, "Reshape", {"shape": list(out[1:])}, [x])


@dataclass(frozen=True)
class Mapping:
    """How one ONNX operator is imported: the function, the layers it becomes, and what
    it refuses (the README's coverage table is made from these)."""

    handler: object
    layers: tuple[str, ...]
    refuses: str = ""


_ELEMENTWISE = "a constant operand that varies across the batch"
MAPPINGS = {
    "Abs": Mapping(function("abs"), ("Function",)),
    "Add": Mapping(arithmetic, ("Add", "Binary", "ConstantOp"), _ELEMENTWISE),
    "AveragePool": Mapping(pool("Avg"), ("AvgPool1d", "AvgPool2d", "Pad", "PaddedAvgPool", "AdaptiveAvgPool2d"),
                           "ceil_mode, dilations, 3-d, non-square windows"),
    "BatchNormalization": Mapping(batchnorm, ("BatchNorm1d", "BatchNorm2d"), "training mode, spatial=0"),
    "Ceil": Mapping(function("ceil"), ("Function",)),
    "Clip": Mapping(clip, ("Clip",), "bounds computed at run time"),
    "Concat": Mapping(concat, ("Concat",), "the batch axis"),
    "Conv": Mapping(conv, ("Conv1d", "Conv2d", "Pad"), "3-d, non-square kernels, strides or dilations"),
    "ConvTranspose": Mapping(conv_transpose, ("ConvTranspose2d",),
                             "1-d and 3-d, groups, dilations, output_shape, uneven or auto padding"),
    "Div": Mapping(arithmetic, ("Binary", "ConstantOp"), _ELEMENTWISE),
    "Dropout": Mapping(passthrough, (), "training mode"),
    "Elu": Mapping(activation("ELU", alpha=("alpha", 1.0)), ("ELU",)),
    "Exp": Mapping(function("exp"), ("Function",)),
    "Flatten": Mapping(flatten, ("Flatten",), "an axis other than 1"),
    "Floor": Mapping(function("floor"), ("Function",)),
    "Gather": Mapping(gather, ("Embedding", "LSTM", "GRU"),
                      "indices computed at run time, except token ids into a weight table"),
    "Gelu": Mapping(gelu, ("GELU",), "the tanh approximation"),
    "Gemm": Mapping(gemm, ("Linear",), "transA"),
    "GlobalAveragePool": Mapping(global_avg, ("AdaptiveAvgPool1d", "AdaptiveAvgPool2d"), "3-d"),
    "GRU": Mapping(recurrent, ("GRU",), "linear_before_reset=0, reverse, sequence lengths, initial states"),
    "Identity": Mapping(passthrough, ()),
    "InstanceNormalization": Mapping(instance_norm, ("InstanceNorm",)),
    "LeakyRelu": Mapping(activation("LeakyReLU", negative_slope=("alpha", 0.01)), ("LeakyReLU",)),
    "Log": Mapping(function("log"), ("Function",)),
    "LogSoftmax": Mapping(softmax("LogSoftmax"), ("LogSoftmax", "Reshape"), "the batch axis"),
    "LRN": Mapping(lrn, ("LocalResponseNorm",), "even sizes"),
    "LSTM": Mapping(recurrent, ("LSTM",), "peepholes, reverse, sequence lengths, initial states"),
    "MatMul": Mapping(matmul, ("Linear",), "a product of two computed tensors"),
    "Max": Mapping(arithmetic, ("Binary", "ConstantOp"), _ELEMENTWISE),
    "MaxPool": Mapping(pool("Max"), ("MaxPool1d", "MaxPool2d", "Pad"),
                       "ceil_mode, dilations, the indices output, 3-d, non-square windows"),
    "Min": Mapping(arithmetic, ("Binary", "ConstantOp"), _ELEMENTWISE),
    "Mul": Mapping(arithmetic, ("Multiply", "Binary", "ConstantOp"), _ELEMENTWISE),
    "Neg": Mapping(function("neg"), ("Function",)),
    "Pad": Mapping(pad, ("Pad",), "wrap mode, padding of the batch axis"),
    "Pow": Mapping(arithmetic, ("Binary", "ConstantOp"), _ELEMENTWISE),
    "PRelu": Mapping(prelu, ("PReLU",), "slopes other than one, or one per channel"),
    "Reciprocal": Mapping(function("reciprocal"), ("Function",)),
    "ReduceMax": Mapping(reduce("max", 18), ("Reduce",), "the batch axis"),
    "ReduceMean": Mapping(reduce("mean", 18), ("Reduce",), "the batch axis"),
    "ReduceMin": Mapping(reduce("min", 18), ("Reduce",), "the batch axis"),
    "ReduceSum": Mapping(reduce("sum", 13), ("Reduce",), "the batch axis"),
    "Relu": Mapping(activation("ReLU"), ("ReLU",)),
    "Reshape": Mapping(reshape, ("Reshape", "Flatten"), "a target size not known before run time"),
    "Selu": Mapping(selu, ("SELU",), "constants other than the standard ones"),
    "Sigmoid": Mapping(activation("Sigmoid"), ("Sigmoid",)),
    "Slice": Mapping(slice_, ("Slice",), "reversed steps, the batch axis"),
    "Softmax": Mapping(softmax("Softmax"), ("Softmax", "Reshape"), "the batch axis"),
    "Softplus": Mapping(activation("Softplus"), ("Softplus",)),
    "Split": Mapping(split, ("Split",), "the batch axis"),
    "Sqrt": Mapping(function("sqrt"), ("Function",)),
    "Squeeze": Mapping(reshape_to_output, ("Reshape", "LSTM", "GRU"), "an output size not known before run time"),
    "Sub": Mapping(arithmetic, ("Binary", "ConstantOp"), _ELEMENTWISE),
    "Sum": Mapping(arithmetic, ("Add", "Binary"), _ELEMENTWISE),
    "Tanh": Mapping(activation("Tanh"), ("Tanh",)),
    "Tile": Mapping(tile, ("Tile",), "repeating the batch"),
    "Transpose": Mapping(transpose, ("Permute", "LSTM", "GRU"), "moving the batch axis"),
    "Unsqueeze": Mapping(reshape_to_output, ("Reshape",), "an output size not known before run time"),
}
HANDLERS = {op: m.handler for op, m in MAPPINGS.items()}

# Inputs that carry data; the others (shapes, axes, indices) are folded into parameters.
DATA_INPUTS = {"Reshape": (0,), "Squeeze": (0,), "Unsqueeze": (0,), "LSTM": (0,), "GRU": (0,),
               "Conv": (0,), "ConvTranspose": (0,), "Gemm": (0,), "BatchNormalization": (0,), "Clip": (0,),
               "Split": (0,), "Slice": (0,), "Tile": (0,), "Pad": (0,), "PRelu": (0,),
               "InstanceNormalization": (0,), "ReduceMean": (0,), "ReduceSum": (0,), "ReduceMax": (0,),
               "ReduceMin": (0,), "Dropout": (0,)}
