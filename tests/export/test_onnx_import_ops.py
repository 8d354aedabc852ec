"""Each mapped operator, built with onnx.helper, imports and computes what onnxruntime computes."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import helper
from onnx_builders import assert_imports_exactly, model

R = np.random.default_rng(1)


def w(*shape, positive=False):
    v = R.normal(size=shape).astype(np.float32)
    return np.abs(v) + 0.5 if positive else v


def i64(*values):
    return np.array(values, dtype=np.int64)


N = helper.make_node
IMG = {"x": [2, 3, 6, 6]}

# id: (nodes, inputs, outputs, initializers, opset, layers the import must use)
CASES = {
    "lrn": ([N("LRN", ["x"], ["y"], size=3, alpha=1e-2, beta=0.75, bias=2.0)], IMG, {"y": [2, 3, 6, 6]}, {}, 13,
            {"LocalResponseNorm"}),
    "conv_uneven_pads": ([N("Conv", ["x", "k"], ["y"], pads=[0, 1, 1, 2])], IMG, {"y": [2, 4, 5, 7]},
                         {"k": w(4, 3, 3, 3)}, 13, {"Pad", "Conv2d"}),
    "conv_same_upper": ([N("Conv", ["x", "k", "b"], ["y"], auto_pad="SAME_UPPER", strides=[2, 2])], IMG,
                        {"y": [2, 4, 3, 3]}, {"k": w(4, 3, 2, 2), "b": w(4)}, 13, {"Conv2d"}),
    "conv_dilated": ([N("Conv", ["x", "k"], ["y"], dilations=[2, 2], pads=[2, 2, 2, 2])], IMG,
                     {"y": [2, 4, 6, 6]}, {"k": w(4, 3, 3, 3)}, 13, {"Conv2d"}),
    "maxpool_uneven_pads": ([N("MaxPool", ["x"], ["y"], kernel_shape=[3, 3], strides=[2, 2], pads=[0, 0, 1, 1])],
                            IMG, {"y": [2, 3, 3, 3]}, {}, 13, {"Pad", "MaxPool2d"}),
    "avgpool_excluding_pads": ([N("AveragePool", ["x"], ["y"], kernel_shape=[3, 3], strides=[1, 1],
                                  pads=[1, 1, 1, 1])], IMG, {"y": [2, 3, 6, 6]}, {}, 13, {"AvgPool2d"}),
    "avgpool_uneven_excluding": ([N("AveragePool", ["x"], ["y"], kernel_shape=[3, 3], strides=[2, 2],
                                    pads=[0, 1, 1, 0])], IMG, {"y": [2, 3, 3, 3]}, {}, 13, {"PaddedAvgPool"}),
    "avgpool_whole_input": ([N("AveragePool", ["x"], ["y"], kernel_shape=[7, 7], pads=[0, 0, 1, 1])], IMG,
                            {"y": [2, 3, 1, 1]}, {}, 9, {"AdaptiveAvgPool2d"}),
    "pad_reflect": ([N("Pad", ["x", "p"], ["y"], mode="reflect")], IMG, {"y": [2, 3, 8, 9]},
                    {"p": i64(0, 0, 1, 2, 0, 0, 1, 1)}, 13, {"Pad"}),
    "prelu_per_channel": ([N("PRelu", ["x", "s"], ["y"])], IMG, {"y": [2, 3, 6, 6]}, {"s": w(3, 1, 1)}, 13,
                          {"PReLU"}),
    "elu_selu_softplus": ([N("Elu", ["x"], ["a"], alpha=0.5), N("Selu", ["a"], ["b"]), N("Softplus", ["b"], ["y"])],
                          IMG, {"y": [2, 3, 6, 6]}, {}, 13, {"ELU", "SELU", "Softplus"}),
    "unary_functions": ([N("Abs", ["x"], ["a"]), N("Sqrt", ["a"], ["b"]), N("Neg", ["b"], ["c"]),
                         N("Exp", ["c"], ["y"])], IMG, {"y": [2, 3, 6, 6]}, {}, 13, {"Function"}),
    "constant_operands": ([N("Mul", ["x", "s"], ["a"]), N("Sub", ["t", "a"], ["b"]), N("Div", ["b", "d"], ["c"]),
                           N("Pow", ["c", "two"], ["e"]), N("Max", ["e", "lo"], ["y"])], IMG, {"y": [2, 3, 6, 6]},
                          {"s": w(3, 1, 1), "t": w(1, 3, 6, 6), "d": w(6, positive=True),
                           "two": np.array(2.0, np.float32), "lo": np.array(0.1, np.float32)}, 13, {"ConstantOp"}),
    "broadcast_tensors": ([N("ReduceMean", ["x"], ["m"], axes=[2, 3]), N("Sub", ["x", "m"], ["a"]),
                           N("Min", ["a", "m"], ["y"])], IMG, {"y": [2, 3, 6, 6]}, {}, 13, {"Binary", "Reduce"}),
    "sum_of_three": ([N("Relu", ["x"], ["a"]), N("Sigmoid", ["x"], ["b"]), N("Sum", ["x", "a", "b"], ["y"])], IMG,
                     {"y": [2, 3, 6, 6]}, {}, 9, {"Add"}),
    "gemm_alpha_beta": ([N("Gemm", ["x", "k", "c"], ["y"], alpha=0.5, beta=2.0)], {"x": [4, 5]}, {"y": [4, 3]},
                        {"k": w(5, 3), "c": w(1, 3)}, 13, {"Linear"}),
    "instance_norm": ([N("InstanceNormalization", ["x", "s", "b"], ["y"], epsilon=1e-3)], IMG, {"y": [2, 3, 6, 6]},
                      {"s": w(3), "b": w(3)}, 13, {"InstanceNorm"}),
    "conv_transpose": ([N("ConvTranspose", ["x", "k", "b"], ["y"], strides=[2, 2], pads=[1, 1, 1, 1])], IMG,
                       {"y": [2, 4, 11, 11]}, {"k": w(3, 4, 3, 3), "b": w(4)}, 13, {"ConvTranspose2d"}),
    "split_slice_tile": ([N("Split", ["x", "parts"], ["a", "b"], axis=1), N("Slice", ["b", "st", "en", "ax"], ["c"]),
                          N("Tile", ["c", "reps"], ["d"]), N("Concat", ["a", "d"], ["y"], axis=1)], IMG,
                         {"y": [2, 3, 6, 6]}, {"parts": i64(1, 2), "st": i64(1, 0), "en": i64(2, 3),
                                                "ax": i64(1, 2), "reps": i64(1, 2, 2, 1)}, 13,
                         {"Split", "Slice", "Tile"}),
    "unsqueeze_transpose_of_weights": ([N("Unsqueeze", ["s", "axes"], ["su"]), N("Transpose", ["su"], ["st"],
                                                                                  perm=[0, 2, 1]),
                                        N("Mul", ["x", "st"], ["y"])], IMG, {"y": [2, 3, 6, 6]},
                                       {"s": w(3, 1), "axes": i64(1)}, 13, {"ConstantOp"}),
    "channel_shuffle": ([N("Reshape", ["x", "s5"], ["a"]), N("Transpose", ["a"], ["b"], perm=[0, 2, 1, 3, 4]),
                         N("Reshape", ["b", "s4"], ["y"])], {"x": [2, 4, 3, 3]}, {"y": [2, 4, 3, 3]},
                        {"s5": i64(2, 2, 2, 3, 3), "s4": i64(2, 4, 3, 3)}, 13, {"Permute", "Reshape"}),
}


@pytest.mark.parametrize("name", list(CASES))
def test_operator_imports_and_matches_onnxruntime(name, registry, tmp_path):
    nodes, inputs, outputs, inits, opset, layers = CASES[name]
    m = model(nodes, inputs, outputs, opset=opset, initializers=inits)
    feeds = {k: R.normal(size=s).astype(np.float32) for k, s in inputs.items()}
    result = assert_imports_exactly(m, tmp_path, feeds, registry)
    assert layers <= {n.type for n in result.project.graph.nodes}


def test_a_gather_from_a_weight_is_an_embedding(registry, tmp_path):
    from onnx import TensorProto, numpy_helper

    table = w(20, 4)
    graph = helper.make_graph([N("Gather", ["table", "ids"], ["e"]), N("ReduceMean", ["e"], ["y"], axes=[1])], "m",
                              [helper.make_tensor_value_info("ids", TensorProto.INT64, ["batch", 7])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 1, 4])],
                              initializer=[numpy_helper.from_array(table, "table")])
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    result = assert_imports_exactly(m, tmp_path, {"ids": R.integers(0, 20, (3, 7))}, registry)
    assert "Embedding" in {n.type for n in result.project.graph.nodes}


def test_a_channels_first_input_read_by_a_1d_convolution_is_a_signal(registry, tmp_path):
    nodes = [N("Conv", ["x", "k", "b"], ["c"], pads=[1, 1]), N("BatchNormalization", ["c", "s", "sh", "mu", "var"],
                                                               ["n"]),
             N("Relu", ["n"], ["r"]), N("MaxPool", ["r"], ["p"], kernel_shape=[2], strides=[2]),
             N("GlobalAveragePool", ["p"], ["g"]), N("Flatten", ["g"], ["f"]), N("Gemm", ["f", "fc"], ["y"], transB=1)]
    inits = {"k": w(6, 3, 3), "b": w(6), "s": w(6), "sh": w(6), "mu": w(6), "var": w(6, positive=True),
             "fc": w(2, 6)}
    m = model(nodes, {"x": ["batch", 3, "length"]}, {"y": ["batch", 2]}, initializers=inits)
    result = assert_imports_exactly(m, tmp_path, {"x": R.normal(size=(4, 3, 20)).astype(np.float32)}, registry)
    x = result.project.graph.node("x")
    assert (x.params["kind"], x.params["channels"], x.params["length"]) == ("signal", 3, 0)
    assert {"Conv1d", "BatchNorm1d", "MaxPool1d", "AdaptiveAvgPool1d"} <= {n.type for n in result.project.graph.nodes}
