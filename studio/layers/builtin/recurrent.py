"""LSTM and GRU with every output a graph may need: sequence, last step, final state."""

from __future__ import annotations

from studio.spec.errors import ShapeError
from studio.spec.shapes import TensorShape
from studio.layers.builtin._rules import expect_float, fixed
from studio.layers.spec import Cost, Ctor, LayerSpec, Param, Port

_PARAMS = (
    Param("hidden_size", "int", 64, 1, 100_000),
    Param("num_layers", "int", 1, 1, 64),
    Param("bidirectional", "bool", False),
    Param("dropout", "float", 0.0, 0.0, 0.99, doc="Between stacked layers"),
)


def _inputs(cell):
    def ports(p):
        ins = [Port("in", "sequence [B, T, F]"),
               Port("h0", "initial hidden state [layers·dirs, B, H]", optional=True, kind="state")]
        if cell == "lstm":
            ins.append(Port("c0", "initial cell state [layers·dirs, B, H]", optional=True, kind="state"))
        return ins
    return ports


def _outputs(cell):
    outs = [Port("seq", "every step [B, T, dirs·H]"), Port("last", "the final step [B, dirs·H]"),
            Port("h", "final hidden state", kind="state")]
    if cell == "lstm":
        outs.append(Port("c", "final cell state", kind="state"))
    return tuple(outs)


def _infer(cell):
    title = cell.upper()

    def infer(p, ins):
        x = ins["in"]
        expect_float(title, x)
        if x.rank != 3:
            hint = "insert Reshape to [T, F]" if x.rank in (2, 4) else ""
            raise ShapeError(f"{title} expects a sequence [B, T, F], got {x}" + (f": {hint}" if hint else ""))
        fixed(title, x, 2, "feature size")
        d = 2 if p["bidirectional"] else 1
        h = p["hidden_size"]
        state = TensorShape.of(p["num_layers"] * d, x.dims[0], h, axes="LBH")
        for port in ("h0", "c0"):
            s = ins.get(port)
            if s is not None and s.dims[0::2] != state.dims[0::2]:
                raise ShapeError(f"{title} {port} must be {state} (layers·directions, batch, hidden), got {s}")
        outs = {
            "seq": TensorShape.of(x.dims[0], x.dims[1], d * h, axes="BTF"),
            "last": TensorShape.of(x.dims[0], d * h, axes="BF"),
            "h": state,
        }
        if cell == "lstm":
            outs["c"] = state
        return outs
    return infer


def _cost(gates):
    def cost(p, ins, outs):
        f, h, d, L = ins["in"].dims[2], p["hidden_size"], 2 if p["bidirectional"] else 1, p["num_layers"]
        steps = ins["in"].dims[1] if isinstance(ins["in"].dims[1], int) else 1
        total, flops = 0, 0
        for layer in range(L):
            fin = f if layer == 0 else d * h
            per_dir = gates * (fin * h + h * h + 2 * h)
            total += d * per_dir
            flops += d * 2 * gates * (fin * h + h * h) * steps
        return Cost(total, flops)
    return cost


def _build(cell):
    def build(p, ins):
        from studio.layers.modules import Recurrent

        return Ctor(Recurrent, {"cell": cell, "input_size": ins["in"].dims[2], **p})
    return build


LSTM = LayerSpec(
    id="LSTM", title="LSTM", category="Recurrent",
    doc="Long short-term memory over a sequence; optional initial state, outputs sequence, last step and state.",
    params=_PARAMS, inputs=_inputs("lstm"), outputs=_outputs("lstm"),
    infer=_infer("lstm"), cost=_cost(4), build=_build("lstm"),
    export_notes="ONNX LSTM operator; sequence length stays dynamic.",
)
GRU = LayerSpec(
    id="GRU", title="GRU", category="Recurrent",
    doc="Gated recurrent unit over a sequence; outputs sequence, last step and state.",
    params=_PARAMS, inputs=_inputs("gru"), outputs=_outputs("gru"),
    infer=_infer("gru"), cost=_cost(3), build=_build("gru"),
    export_notes="ONNX GRU operator.",
)


def register(registry) -> None:
    registry.add(LSTM)
    registry.add(GRU)
