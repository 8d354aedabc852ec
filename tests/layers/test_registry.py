"""One registry: declarations, duplicates, aliases, and failing modules that add nothing."""

from __future__ import annotations

import types

import pytest

from studio.core.errors import StudioError, UnknownLayerType
from studio.core.shapes import TensorShape
from studio.layers import DuplicateLayer, LayerRegistry, builtin_registry
from studio.layers.spec import ROLE_OUTPUT, Ctor, LayerSpec, LossRole, Param

REQUIRED = ["Input", "Linear", "Conv1d", "Conv2d", "ConvTranspose2d", "MaxPool1d", "MaxPool2d", "AvgPool1d",
            "AvgPool2d", "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "BatchNorm1d", "BatchNorm2d", "LayerNorm",
            "Dropout", "ReLU", "LeakyReLU", "GELU", "Sigmoid", "Tanh", "Softmax", "Flatten", "Reshape",
            "Permute", "Embedding", "LSTM", "GRU", "MultiheadAttention", "Add", "Concat", "Multiply",
            "Output", "CrossEntropyLoss", "MSELoss", "BCELoss"]


def _spec(id, legacy=()):
    return LayerSpec(id=id, title=id, category="Test", doc="test layer", infer=lambda p, i: {"out": i["in"]},
                     build=lambda p, i: Ctor(object), legacy_ids=legacy)


def test_builtins_cover_the_required_layers():
    reg = builtin_registry()
    missing = [i for i in REQUIRED if i not in reg]
    assert missing == []
    for spec in reg:
        assert spec.title and spec.category and spec.doc, spec.id
        assert spec.source.startswith("builtin:"), spec.id
        for p in spec.params:
            p.validate(spec.id, p.default)  # every default is allowed by its own range


def test_duplicate_ids_and_aliases_raise():
    reg = LayerRegistry()
    reg.add(_spec("A", legacy=("OldA",)))
    with pytest.raises(DuplicateLayer, match="'A'"):
        reg.add(_spec("A"))
    with pytest.raises(DuplicateLayer, match="'OldA'"):
        reg.add(_spec("B", legacy=("OldA",)))
    with pytest.raises(DuplicateLayer):
        reg.add(_spec("OldA"))


def test_unknown_type_error():
    with pytest.raises(UnknownLayerType, match="did you mean Conv2d"):
        builtin_registry().get("conv2d")


def test_module_that_fails_half_way_adds_nothing():
    reg = LayerRegistry()
    reg.add(_spec("Taken"))

    def register(r):
        r.add(_spec("Fresh"))
        r.add(_spec("Taken"))

    with pytest.raises(DuplicateLayer):
        reg.load_module(types.SimpleNamespace(register=register, __name__="bad"), source="bad")
    assert "Fresh" not in reg
    with pytest.raises(StudioError, match="no register"):
        reg.load_module(types.ModuleType("empty"))


def test_spec_must_declare_shape_rule_and_builder():
    with pytest.raises(TypeError, match="shape rule"):
        LayerSpec(id="X", title="X", category="T", doc="d", build=lambda p, i: Ctor(object))
    with pytest.raises(TypeError, match="builder"):
        LayerSpec(id="X", title="X", category="T", doc="d", infer=lambda p, i: {})
    with pytest.raises(TypeError, match="twice"):
        LayerSpec(id="X", title="X", category="T", doc="d", infer=lambda p, i: {}, build=lambda p, i: Ctor(object),
                  params=(Param("a", "int", 1), Param("a", "int", 2)))


def test_a_loss_declaration_names_parameters_the_layer_has():
    kw = dict(title="L", category="Loss", doc="d", inputs=(), outputs=(), infer=lambda p, i: {},
              build=lambda p, i: Ctor(object))
    with pytest.raises(TypeError, match="'target' as its target"):
        LayerSpec(id="L", loss=LossRole(), params=(Param("labels", "str", "y"),), **kw)
    with pytest.raises(TypeError, match="'weight' as its weight, which needs a 'float'"):
        LayerSpec(id="L", loss=LossRole(metric=None), params=(Param("target", "str", "y"), Param("weight", "int", 1)),
                  **kw)
    spec = LayerSpec(id="L", loss=LossRole(weight=None, metric=None), params=(Param("target", "str", "y"),), **kw)
    assert spec.role == ROLE_OUTPUT and spec.is_loss  # a loss is an output the trainer trains on


def test_builtin_losses_and_outputs_say_what_they_are():
    reg = builtin_registry()
    losses = {s.id for s in reg if s.loss is not None}
    assert losses == {"CrossEntropyLoss", "MSELoss", "BCELoss", "DetectionLoss"}
    assert {s.id for s in reg if s.role == ROLE_OUTPUT} - losses == {"Output"}
    assert reg.get("CrossEntropyLoss").loss.ignore_index == "ignore_index"
    assert reg.get("Embedding").id_limit == "num_embeddings"


def test_each_input_kind_is_declared_once_and_the_input_offers_them_all():
    from studio.spec.inputs import KIND_NAMES, input_kind

    kind = builtin_registry().get("Input").param("kind")
    assert tuple(kind.choices) == ("image", "sequence", "vector", "tokens", "waveform", "signal") == tuple(KIND_NAMES)
    assert input_kind("tokens").shape({"length": 0}).dtype == "long"
    assert [k for k in KIND_NAMES if input_kind(k).length_axis is not None] == ["sequence", "tokens", "waveform",
                                                                                "signal"]


def test_param_kinds():
    ints = Param("shape", "ints", (1, 2), -1, 10)
    assert ints.validate("L", [3, -1]) == (3, -1)
    with pytest.raises(StudioError):
        ints.validate("L", [3, 11])
    f = Param("p", "float", 0.5, 0.0, 1.0)
    assert f.validate("L", 1) == 1.0
    with pytest.raises(StudioError, match=r"in \[0, 1\]"):
        f.validate("L", float("nan"))


def test_shape_describe():
    s = TensorShape.of("B", 3, 8, 8, axes="BCHW")
    assert str(s) == "[B, 3, 8, 8]" and s.describe() == "[B, C=3, H=8, W=8]"
