"""ONNX operators mapped onto registry layers, one small function per operator.

Each value of the ONNX graph is tracked as a :class:`Val`: the Layer Studio port that
holds it, plus a *view* for the layouts ONNX uses around recurrent layers (time-major
sequences, the LSTM's ``[T, dirs, B, H]`` output), so that the transposes and squeezes
an exporter adds around an LSTM fold back into the one LSTM node they came from.
"""

from __future__ import annotations

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


def _t(array) -> torch.Tensor:
    return torch.from_numpy(np.array(array, copy=True))


def conv(ctx, node, a):
    if a.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET"):
        raise Unmapped("auto_pad")
    x, w = ctx.data(node.input[0]), ctx.const(node.input[1])
    n = w.ndim - 2
    if n not in (1, 2):
        raise Unmapped(f"{n}-d convolution")
    k = _square(a.get("kernel_shape", w.shape[2:]), "kernel")
    params = {"out_channels": int(w.shape[0]), "kernel_size": k,
              "stride": _square(a.get("strides", [1] * n), "stride"), "padding": _pads(a.get("pads", []), n),
              "dilation": _square(a.get("dilations", [1] * n), "dilation"), "groups": int(a.get("group", 1)),
              "bias": len(node.input) > 2 and bool(node.input[2])}
    weights = {"weight": _t(w)}
    if params["bias"]:
        weights["bias"] = _t(ctx.const(node.input[2]))
    return ctx.layer(node, f"Conv{n}d", params, [x], weights)


def gemm(ctx, node, a):
    if a.get("alpha", 1.0) != 1.0 or a.get("beta", 1.0) != 1.0 or a.get("transA", 0):
        raise Unmapped("alpha, beta or transA other than the defaults")
    x, w = ctx.data(node.input[0]), ctx.const(node.input[1])
    w = w if a.get("transB", 0) else w.T
    weights = {"weight": _t(w)}
    bias = len(node.input) > 2 and bool(node.input[2])
    if bias:
        b = ctx.const(node.input[2])
        if b.size != w.shape[0]:
            raise Unmapped("a bias that is not one value per output")
        weights["bias"] = _t(b.reshape(-1))
    return ctx.layer(node, "Linear", {"out_features": int(w.shape[0]), "bias": bias}, [x], weights)


def matmul(ctx, node, a):
    if not ctx.is_const(node.input[1]) or ctx.const(node.input[1]).ndim != 2:
        raise Unmapped("a product of two tensors (only a tensor times a weight matrix maps to Linear)")
    x, w = ctx.data(node.input[0]), ctx.const(node.input[1])
    return ctx.layer(node, "Linear", {"out_features": int(w.shape[1]), "bias": False}, [x], {"weight": _t(w.T)})


def add_or_mul(ctx, node, a):
    consts = [i for i in node.input if ctx.is_const(i)]
    if node.op_type == "Add" and len(consts) == 1:
        other = next(i for i in node.input if not ctx.is_const(i))
        v = ctx.data(other)
        if ctx.fold_bias(v, ctx.const(consts[0])):
            return [v]
    if consts:
        raise Unmapped(f"{node.op_type} with a constant operand")
    xs = [ctx.data(i) for i in node.input]
    return ctx.layer(node, "Add" if node.op_type == "Add" else "Multiply", {"inputs": len(xs)}, xs)


def concat(ctx, node, a):
    xs = [ctx.data(i) for i in node.input]
    if len(xs) < 2:
        return xs
    if int(a["axis"]) == 0 and all(x.view in ("lstm_h", "lstm_c") for x in xs):
        # Stacked layers' final states [layers, B, H]: only the top layer's (the last) is ever read.
        return [xs[-1]]
    return ctx.layer(node, "Concat", {"inputs": len(xs), "axis": int(a["axis"])}, xs)


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


def pool(kind):
    def handler(ctx, node, a):
        k = list(a["kernel_shape"])
        n = len(k)
        if a.get("ceil_mode", 0):
            raise Unmapped("ceil_mode")
        if any(d != 1 for d in a.get("dilations", [1] * n)):
            raise Unmapped("dilated pooling")
        pad = _pads(a.get("pads", []), n)
        if kind == "Avg" and pad and not a.get("count_include_pad", 0):
            raise Unmapped("padded average pooling that excludes the padding")
        params = {"kernel_size": _square(k, "window"), "stride": _square(a.get("strides", [1] * n), "stride"),
                  "padding": pad}
        return ctx.layer(node, f"{kind}Pool{n}d", params, [ctx.data(node.input[0])])
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
    scale, bias, mean, var = (ctx.const(i) for i in node.input[1:5])
    weights = {"weight": _t(scale), "bias": _t(bias), "running_mean": _t(mean), "running_var": _t(var),
               "num_batches_tracked": torch.tensor(0)}
    params = {"eps": float(a.get("epsilon", 1e-5)), "momentum": round(1.0 - float(a.get("momentum", 0.9)), 6)}
    return ctx.layer(node, "BatchNorm2d" if rank == 4 else "BatchNorm1d", params, [x], weights)


def passthrough(ctx, node, a):
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


HANDLERS = {
    "Conv": conv, "Gemm": gemm, "MatMul": matmul, "Add": add_or_mul, "Mul": add_or_mul, "Concat": concat,
    "Relu": activation("ReLU"), "Sigmoid": activation("Sigmoid"), "Tanh": activation("Tanh"),
    "LeakyRelu": activation("LeakyReLU", negative_slope=("alpha", 0.01)),
    "Softmax": softmax("Softmax"), "LogSoftmax": softmax("LogSoftmax"), "Gelu": gelu,
    "MaxPool": pool("Max"), "AveragePool": pool("Avg"), "GlobalAveragePool": global_avg,
    "Flatten": flatten, "Reshape": reshape, "Transpose": transpose, "BatchNormalization": batchnorm,
    "Dropout": passthrough, "Identity": passthrough, "LSTM": recurrent, "GRU": recurrent,
    "Squeeze": squeeze, "Gather": gather,
}

# Inputs that carry data; the others (shapes, axes, indices) are folded into parameters.
DATA_INPUTS = {"Reshape": (0,), "Squeeze": (0,), "Unsqueeze": (0,), "Gather": (0,), "LSTM": (0,), "GRU": (0,),
               "Conv": (0,), "Gemm": (0,), "BatchNormalization": (0,)}
