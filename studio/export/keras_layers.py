"""The Keras counterpart of each layer, both ways: one table keyed by layer id (export) and
one keyed by Keras class name (import). Adding a layer's Keras form touches this file only.

Export writes the graph as it computes, channels first: convolutions and pooling carry
``data_format="channels_first"`` (Keras runs them natively on its torch backend), so every
tensor keeps Layer Studio's layout and ``Flatten`` and ``Dense`` see the same values.

An export entry is ``fn(p, ins, port) -> [Step, ...]``: the Keras layers (as source text)
applied one after another to the node's input(s), each with a function that turns the
node's torch weights (numpy arrays by name) into that layer's ``get_weights()`` list. It
raises :class:`NoKeras` with the reason when the node's settings have no Keras form.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np


class NoKeras(Exception):
    """This layer, with these settings, has no Keras counterpart (the message says why)."""


@dataclass
class Step:
    call: str  # e.g. keras.layers.Dense(10, name="classifier")
    name: str  # the Keras layer's name
    weights: Callable[[dict], list] | None = None


def _n(name: str) -> str:
    return f"name={name!r}"


# ---- export: layer id -> Keras -------------------------------------------------------------

def _dense(node, p, ins, port):
    def weights(s):
        return [s["weight"].T, s["bias"]] if p["bias"] else [s["weight"].T]
    return [Step(f"keras.layers.Dense({p['out_features']}, use_bias={p['bias']}, {_n(node)})", node, weights)]


def _conv(dims):
    cls = {1: "Conv1D", 2: "Conv2D"}[dims]
    pad_cls = {1: "ZeroPadding1D", 2: "ZeroPadding2D"}[dims]

    def entry(node, p, ins, port):
        k, s, pad, d = p["kernel_size"], p["stride"], p["padding"], p["dilation"]
        steps = []
        if pad == 0:
            mode = "valid"
        elif s == 1 and 2 * pad == d * (k - 1):
            mode = "same"
        else:
            fmt = ", data_format='channels_first'" if dims == 2 else ""
            if dims == 1:  # ZeroPadding1D pads axis 1: the channels-first length axis is 2
                raise NoKeras("a padded 1-d convolution with stride above 1 has no Keras form here")
            steps.append(Step(f"keras.layers.{pad_cls}({pad}{fmt}, {_n(node + '_pad')})", node + "_pad"))
            mode = "valid"
        order = (2, 1, 0) if dims == 1 else (2, 3, 1, 0)  # [O, I, k...] -> [k..., I, O]

        def weights(st):
            w = [st["weight"].transpose(order)]
            return w + [st["bias"]] if p["bias"] else w
        steps.append(Step(f"keras.layers.{cls}({p['out_channels']}, {k}, strides={s}, padding={mode!r}, "
                          f"dilation_rate={d}, groups={p['groups']}, use_bias={p['bias']}, "
                          f"data_format='channels_first', {_n(node)})", node, weights))
        return steps
    return entry


def _pool(kind, dims):
    cls = f"{kind}Pooling{dims}D"

    def entry(node, p, ins, port):
        if p["padding"]:
            raise NoKeras(f"Keras {cls} pads only as 'same', not by {p['padding']}")
        stride = p["stride"] or p["kernel_size"]
        return [Step(f"keras.layers.{cls}({p['kernel_size']}, strides={stride}, padding='valid', "
                     f"data_format='channels_first', {_n(node)})", node)]
    return entry


def _global_avg(dims):
    def entry(node, p, ins, port):
        if tuple(p["output_size"]) != (1,) * dims:
            raise NoKeras("Keras pools adaptively only to one value per channel (output size 1)")
        return [Step(f"keras.layers.GlobalAveragePooling{dims}D(data_format='channels_first', keepdims=True, "
                     f"{_n(node)})", node)]
    return entry


def _batchnorm(node, p, ins, port):
    def weights(s):
        return [s["weight"], s["bias"], s["running_mean"], s["running_var"]]
    return [Step(f"keras.layers.BatchNormalization(axis=1, epsilon={p['eps']!r}, momentum={1 - p['momentum']!r}, "
                 f"{_n(node)})", node, weights)]


def _layernorm(node, p, ins, port):
    return [Step(f"keras.layers.LayerNormalization(axis=-1, epsilon={p['eps']!r}, {_n(node)})", node,
                 lambda s: [s["weight"], s["bias"]])]


def _with_name(call: str, node: str) -> str:
    head, _, _ = call.rpartition(")")
    sep = "" if head.endswith("(") else ", "
    return f"{head}{sep}{_n(node)})"


def _recurrent(cell):
    cls = cell.upper()

    def entry(node, p, ins, port):
        if port not in ("seq", "last"):
            raise NoKeras(f"only the sequence or the last step of a {cls} is exported, not its state {port!r}")
        layers, bi, h = p["num_layers"], p["bidirectional"], p["hidden_size"]
        steps = []
        for layer in range(layers):
            seq = layer < layers - 1 or port == "seq"
            name = node if layers == 1 else f"{node}_{layer}"
            inner = f"keras.layers.{cls}({h}, return_sequences={seq}" + (", reset_after=True" if cell == "gru" else "")
            if bi:
                call = f"keras.layers.Bidirectional({inner}), merge_mode='concat', {_n(name)})"
            else:
                call = f"{inner}, {_n(name)})"
            steps.append(Step(call, name, _rnn_weights(cell, layer, bi, h)))
        return steps
    return entry


def _rnn_weights(cell, layer, bi, h):
    def one(s, suffix):
        w_ih, w_hh = s[f"rnn.weight_ih_l{layer}{suffix}"], s[f"rnn.weight_hh_l{layer}{suffix}"]
        b_ih, b_hh = s[f"rnn.bias_ih_l{layer}{suffix}"], s[f"rnn.bias_hh_l{layer}{suffix}"]
        if cell == "lstm":  # gates i, f, g, o in both
            return [w_ih.T, w_hh.T, b_ih + b_hh]
        order = np.r_[h:2 * h, 0:h, 2 * h:3 * h]  # torch r, z, n -> Keras z, r, h
        return [w_ih[order].T, w_hh[order].T, np.stack([b_ih[order], b_hh[order]])]

    def weights(s):
        return one(s, "") + (one(s, "_reverse") if bi else [])
    return weights


def _embedding(node, p, ins, port):
    return [Step(f"keras.layers.Embedding({p['num_embeddings']}, {p['embedding_dim']}, {_n(node)})", node,
                 lambda s: [s["weight"]])]


def _merge(cls):
    def entry(node, p, ins, port):
        return [Step(f"keras.layers.{cls}({_n(node)})", node)]
    return entry


def _concat(node, p, ins, port):
    return [Step(f"keras.layers.Concatenate(axis={p['axis']}, {_n(node)})", node)]


def _simple(template):
    def entry(node, p, ins, port):
        return [Step(_with_name(template.format(**p), node), node)]
    return entry


EXPORT: dict[str, Callable] = {
    "Linear": _dense,
    "Conv1d": _conv(1), "Conv2d": _conv(2),
    "MaxPool1d": _pool("Max", 1), "MaxPool2d": _pool("Max", 2),
    "AvgPool1d": _pool("Average", 1), "AvgPool2d": _pool("Average", 2),
    "AdaptiveAvgPool1d": _global_avg(1), "AdaptiveAvgPool2d": _global_avg(2),
    "BatchNorm1d": _batchnorm, "BatchNorm2d": _batchnorm, "LayerNorm": _layernorm,
    "Dropout": _simple("keras.layers.Dropout({p})"),
    "Flatten": _simple("keras.layers.Flatten()"),
    "Reshape": _simple("keras.layers.Reshape({shape})"),
    "Permute": _simple("keras.layers.Permute({order})"),
    "Embedding": _embedding,
    "LSTM": _recurrent("lstm"), "GRU": _recurrent("gru"),
    "Add": _merge("Add"), "Multiply": _merge("Multiply"), "Concat": _concat,
    "ReLU": _simple("keras.layers.ReLU()"),
    "LeakyReLU": _simple("keras.layers.LeakyReLU(negative_slope={negative_slope})"),
    "ELU": _simple("keras.layers.ELU(alpha={alpha})"),
    "GELU": _simple("keras.layers.Activation('gelu')"),
    "Sigmoid": _simple("keras.layers.Activation('sigmoid')"),
    "Tanh": _simple("keras.layers.Activation('tanh')"),
    "SELU": _simple("keras.layers.Activation('selu')"),
    "Softplus": _simple("keras.layers.Activation('softplus')"),
    "Softmax": _simple("keras.layers.Softmax(axis={dim})"),
}


# ---- import: Keras class -> layers ----------------------------------------------------------

@dataclass
class Made:
    """One Layer Studio node an import makes: its type, parameters and weights (torch names)."""
    type: str
    params: dict
    state: dict
    port: str = "out"  # the output port that carries the Keras tensor on


ACTIVATIONS = {"relu": ("ReLU", {}), "sigmoid": ("Sigmoid", {}), "tanh": ("Tanh", {}), "gelu": ("GELU", {}),
               "elu": ("ELU", {"alpha": 1.0}), "selu": ("SELU", {}), "softplus": ("Softplus", {}),
               "softmax": ("Softmax", {"dim": -1}), "leaky_relu": ("LeakyReLU", {"negative_slope": 0.2})}


def activation_node(name: str) -> Made | None:
    """The node for a Keras ``activation=`` (None for linear)."""
    if name in (None, "linear"):
        return None
    if name not in ACTIVATIONS:
        raise NoKeras(f"activation {name!r} has no Layer Studio layer")
    type_id, params = ACTIVATIONS[name]
    return Made(type_id, dict(params), {})


def _one(value) -> int:
    values = tuple(value) if isinstance(value, (list, tuple)) else (value,)
    if len(set(values)) != 1:
        raise NoKeras(f"only square kernels, strides and dilations are mapped, not {values}")
    return int(values[0])


def conv_from(layer, cfg, dims: int) -> Made:
    k, s, d = _one(cfg["kernel_size"]), _one(cfg["strides"]), _one(cfg["dilation_rate"])
    if cfg["padding"] == "valid":
        pad = 0
    elif cfg["padding"] == "same" and s == 1 and (d * (k - 1)) % 2 == 0:
        pad = d * (k - 1) // 2
    else:
        raise NoKeras(f"padding {cfg['padding']!r} with kernel {k} and stride {s} pads unevenly")
    w = layer.get_weights()
    order = (2, 1, 0) if dims == 1 else (3, 2, 0, 1)  # [k..., I, O] -> [O, I, k...]
    state = {"weight": w[0].transpose(order)}
    if cfg["use_bias"]:
        state["bias"] = w[1]
    params = {"out_channels": int(cfg["filters"]), "kernel_size": k, "stride": s, "padding": pad, "dilation": d,
              "groups": int(cfg.get("groups", 1)), "bias": bool(cfg["use_bias"])}
    return Made(f"Conv{dims}d", params, state)


def rnn_from(layer, inner: dict, cell: str, bi: bool) -> Made:
    """An LSTM or GRU node from a Keras layer (or a Bidirectional's), ``inner`` its config."""
    weights = layer.get_weights()
    h = int(inner["units"])
    if inner.get("activation", "tanh") != "tanh" or inner.get("recurrent_activation", "sigmoid") != "sigmoid":
        raise NoKeras("only the tanh / sigmoid activations of torch's recurrent layers are mapped")
    if cell == "gru" and not inner.get("reset_after", True):
        raise NoKeras("a GRU with reset_after=False computes differently from torch's GRU")
    if inner.get("go_backwards") or inner.get("stateful"):
        raise NoKeras("go_backwards and stateful recurrent layers are not mapped")
    if not inner.get("use_bias", True):
        raise NoKeras("a recurrent layer without bias is not mapped")
    state = {}
    for i, suffix in enumerate(["", "_reverse"] if bi else [""]):
        k, rk, b = weights[3 * i:3 * (i + 1)]  # kernel, recurrent kernel, bias per direction
        if cell == "lstm":
            state[f"rnn.weight_ih_l0{suffix}"] = k.T
            state[f"rnn.weight_hh_l0{suffix}"] = rk.T
            state[f"rnn.bias_ih_l0{suffix}"] = b
            state[f"rnn.bias_hh_l0{suffix}"] = np.zeros_like(b)
        else:
            order = np.r_[h:2 * h, 0:h, 2 * h:3 * h]  # Keras z, r, h -> torch r, z, n (its own inverse)
            state[f"rnn.weight_ih_l0{suffix}"] = k.T[order]
            state[f"rnn.weight_hh_l0{suffix}"] = rk.T[order]
            state[f"rnn.bias_ih_l0{suffix}"] = b[0][order]
            state[f"rnn.bias_hh_l0{suffix}"] = b[1][order]
    port = "seq" if inner["return_sequences"] else "last"
    return Made(cell.upper(), {"hidden_size": h, "num_layers": 1, "bidirectional": bi, "dropout": 0.0}, state,
                port)
