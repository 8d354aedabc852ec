"""Multi-head attention."""

from __future__ import annotations

from studio.spec.errors import ShapeError
from studio.layers.builtin._rules import expect_float, fixed
from studio.layers.spec import Cost, Ctor, LayerSpec, Param, Port


def _infer(p, ins):
    q = ins["in"]
    expect_float("MultiheadAttention", q)
    if q.rank != 3:
        raise ShapeError(f"MultiheadAttention expects a sequence [B, T, E], got {q}")
    e = fixed("MultiheadAttention", q, 2, "embedding size")
    if e % p["num_heads"]:
        raise ShapeError(f"MultiheadAttention: {p['num_heads']} heads must divide the embedding size {e}")
    k = ins.get("key") or q
    v = ins.get("value") or k
    for name, s in (("key", k), ("value", v)):
        if s.rank != 3 or s.dims[2] != e:
            raise ShapeError(f"MultiheadAttention {name} must be [B, S, {e}], got {s}")
    if k.dims[1] != v.dims[1]:
        raise ShapeError(f"MultiheadAttention key and value need the same length, got {k} and {v}")
    return {"out": q}


def _cost(p, ins, outs):
    q = ins["in"]
    e = q.dims[2]
    t = q.dims[1] if isinstance(q.dims[1], int) else 1
    k = ins.get("key") or q
    s = k.dims[1] if isinstance(k.dims[1], int) else 1
    return Cost(4 * e * e + 4 * e, 2 * 4 * e * e * t + 2 * 2 * t * s * e)


ATTENTION = LayerSpec(
    id="MultiheadAttention", title="Multi-head attention", category="Attention",
    doc="Scaled dot-product attention; key and value default to the query (self-attention).",
    params=(Param("num_heads", "int", 4, 1, 1024), Param("dropout", "float", 0.0, 0.0, 0.99)),
    inputs=(Port("in", "query [B, T, E]"), Port("key", optional=True), Port("value", optional=True)),
    infer=_infer, cost=_cost,
    build=lambda p, ins: _build(p, ins),
    export_notes="Exported as MatMul/Softmax operators.",
)


def _build(p, ins):
    from studio.layers.modules import Attention

    return Ctor(Attention, {"embed_dim": ins["in"].dims[2], "num_heads": p["num_heads"], "dropout": p["dropout"]})


def register(registry) -> None:
    registry.add(ATTENTION)
