"""Hostile ONNX files: no tensor is read from outside the file, unreadable types are refused in one line."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from studio.cli import main
from studio.export.errors import ImportModelError
from studio.export.onnx_import import import_onnx

SECRET = b"-----BEGIN OPENSSH PRIVATE KEY----- not for a model's weights"


def _external(tensor: TensorProto, location: str) -> TensorProto:
    """Point ``tensor`` at bytes of another file, as an attacker would, with no ``..`` in the path."""
    tensor.ClearField("raw_data")
    tensor.ClearField("float_data")
    tensor.ClearField("int64_data")
    tensor.data_location = TensorProto.EXTERNAL
    for key, value in (("location", location), ("offset", "0"), ("length", "32")):
        entry = tensor.external_data.add()
        entry.key, entry.value = key, value
    return tensor


def _gemm_model(weight_node=None, initializers=(), sparse=(), extra_nodes=()):
    """x [1, 4] -> Gemm(x, w) -> y, with the weight ``w`` coming from wherever the test puts it."""
    nodes = [*extra_nodes, *([weight_node] if weight_node is not None else []),
             helper.make_node("Gemm", ["x", "w"], ["y"], name="fc")]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2])],
                              initializer=list(initializers), sparse_initializer=list(sparse))
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


def _weight() -> TensorProto:
    return numpy_helper.from_array(np.ones((4, 2), np.float32), "w")


def _constant_node():
    return helper.make_node("Constant", [], ["w"], name="leak", value=_external(_weight(), "secret.txt"))


def _initializer_model():
    return _gemm_model(initializers=[_external(_weight(), "secret.txt")])


def _sparse_model():
    values = _external(numpy_helper.from_array(np.ones(8, np.float32), "w"), "secret.txt")
    indices = numpy_helper.from_array(np.arange(8, dtype=np.int64), "w_indices")
    return _gemm_model(sparse=[helper.make_sparse_tensor(values, indices, [4, 2])])


def _subgraph_model():
    """An If whose branches each hold a Constant with external data."""
    def branch(name):
        const = helper.make_node("Constant", [], [name], value=_external(_weight(), "secret.txt"))
        return helper.make_graph([const], name, [], [helper.make_tensor_value_info(name, TensorProto.FLOAT, [4, 2])])

    cond = helper.make_node("Constant", [], ["c"], value=numpy_helper.from_array(np.array(True), "c"))
    pick = helper.make_node("If", ["c"], ["w"], then_branch=branch("a"), else_branch=branch("b"))
    return _gemm_model(extra_nodes=[cond, pick])


HOSTILE = [
    ("constant", lambda: _gemm_model(_constant_node()), "node leak attribute value"),
    ("initializer", _initializer_model, "initializer w"),
    ("sparse_initializer", _sparse_model, "sparse initializer w"),
    ("subgraph", _subgraph_model, r"node w.s subgraph \w+_branch: node [ab] attribute value"),
]


@pytest.mark.parametrize("name,build,where", HOSTILE, ids=[h[0] for h in HOSTILE])
def test_external_data_anywhere_is_refused_before_anything_is_read(name, build, where, registry, tmp_path,
                                                                     monkeypatch):
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    (folder / "secret.txt").write_bytes(SECRET)
    monkeypatch.chdir(folder)  # the location resolves against the working folder, not the model's
    path = tmp_path / "m.onnx"
    path.write_bytes(build().SerializeToString())
    with pytest.raises(ImportModelError, match=f"m.onnx: {where}.* external data file"):
        import_onnx(path, registry)


def test_the_command_line_refuses_external_data_with_exit_2_and_writes_nothing(tmp_path, monkeypatch, capsys):
    (tmp_path / "secret.txt").write_bytes(SECRET)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "m.onnx").write_bytes(_gemm_model(_constant_node()).SerializeToString())
    assert main(["import", "m.onnx", "--out", "p.json"]) == 2
    err = capsys.readouterr().err
    assert "external data" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "p.json").exists() and not (tmp_path / "p.weights.safetensors").exists()


def _typed(data_type: int) -> TensorProto:
    t = TensorProto()
    t.name, t.data_type = "w", data_type
    t.dims.extend([4, 2])
    if data_type == TensorProto.STRING:
        t.string_data.extend([b"a"] * 8)
    else:
        t.raw_data = bytes(8 * 2)
    return t


@pytest.mark.parametrize("data_type", [TensorProto.BFLOAT16, TensorProto.FLOAT8E4M3FN, TensorProto.INT4,
                                       TensorProto.STRING],
                         ids=["bfloat16", "float8", "int4", "string"])
def test_unreadable_tensor_types_are_refused_in_one_line(data_type, tmp_path, capsys):
    path = tmp_path / "m.onnx"
    path.write_bytes(_gemm_model(initializers=[_typed(data_type)]).SerializeToString())
    name = TensorProto.DataType.Name(data_type)
    with pytest.raises(ImportModelError, match=f"m.onnx: initializer w holds {name} values"):
        import_onnx(path)
    assert main(["import", str(path), "--out", str(tmp_path / "p.json")]) == 2
    err = capsys.readouterr().err.strip()
    assert name in err and len(err.splitlines()) == 1 and "Traceback" not in err


def test_every_operator_that_would_fail_is_listed_not_only_the_first(registry, tmp_path):
    """The scan goes on past a refusal: a mapped operator that fails on its own is listed too."""
    from onnx_builders import model, save

    nodes = [helper.make_node("Erf", ["x"], ["a"]), helper.make_node("Softmax", ["a"], ["b"], axis=0),
             helper.make_node("Erf", ["b"], ["c"]), helper.make_node("Softmax", ["c"], ["y"], axis=0)]
    path = save(model(nodes, {"x": [2, 3, 4, 4]}, {"y": [2, 3, 4, 4]}, opset=11), tmp_path / "m.onnx")
    with pytest.raises(ImportModelError) as info:
        import_onnx(path, registry)
    message = str(info.value)
    assert "4 operator(s)" in message
    assert "Erf x2 (no Layer Studio layer)" in message and "Softmax x2 (a Softmax over the batch axis)" in message


def test_float64_models_are_refused_not_cast(registry, tmp_path):
    path = tmp_path / "m.onnx"
    weights = numpy_helper.from_array(np.ones((4, 2), np.float64), "w")
    m = _gemm_model(initializers=[weights])
    path.write_bytes(m.SerializeToString())
    with pytest.raises(ImportModelError, match="Gemm x1 .float64 weights: Layer Studio computes in float32"):
        import_onnx(path, registry)
    m.graph.input[0].type.tensor_type.elem_type = TensorProto.DOUBLE
    path.write_bytes(m.SerializeToString())
    with pytest.raises(ImportModelError, match="input x holds DOUBLE values; .* nothing is cast silently"):
        import_onnx(path, registry)


def test_a_weight_whose_data_does_not_fill_its_shape_is_refused_in_one_line(registry, tmp_path):
    big = numpy_helper.from_array(np.ones((4, 5000), np.float32), "w")  # large: not seen by the checker
    big.raw_data = big.raw_data[:-8]
    m = _gemm_model(initializers=[big])
    m.graph.output[0].type.tensor_type.shape.dim[1].dim_value = 5000
    path = tmp_path / "m.onnx"
    path.write_bytes(m.SerializeToString())
    with pytest.raises(ImportModelError, match=r"m.onnx: initializer w: its data does not fill its shape \[4, 5000\]"):
        import_onnx(path, registry)
