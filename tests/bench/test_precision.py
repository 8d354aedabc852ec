"""int8 and float16 exports: calibrated on the project's own data, checked against the
float model on the validation split with the task metric, refused when it drops."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from studio.bench.precision import PrecisionError, export_reduced
from studio.core.project import load
from studio.export.quantize import DYNAMIC, STATIC, int8_method
from studio.resources import template_path
from studio.training.project import train_project


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """cnn_digits after three epochs (above 90 % accuracy), and its run folder."""
    import torch

    torch.set_num_threads(1)
    folder = tmp_path_factory.mktemp("digits")
    project = load(template_path("cnn_digits"))
    project.training.update(epochs=3, schedule="none")
    project = load(project.save(folder / "digits.json"))
    result = train_project(project, run_dir=folder / "run")
    assert result.metrics["accuracy"] > 0.9
    return project, folder / "run"


def test_int8_is_static_qdq_per_channel_a_third_of_the_size_and_as_accurate(trained, tmp_path):
    project, run = trained
    out = tmp_path / "digits.int8.onnx"
    report = export_reduced(project, out, "int8", weights=run, calibration=4)
    assert report.method == STATIC and report.calibration_batches == 4
    assert report.size_bytes == out.stat().st_size and report.size_ratio <= 0.3
    assert report.metric == "accuracy" and report.float_metric > 0.9
    assert abs(report.drop - 100 * (report.float_metric - report.reduced_metric)) < 1e-9 and report.drop <= 1.0
    assert report.checked_on == "359 validation samples of digits"
    assert report.speed["batch_size"] == 64 and report.speed["ratio"] > 0
    model = onnx.load(str(out))
    ops = [n.op_type for n in model.graph.node]
    assert "QuantizeLinear" in ops and "DequantizeLinear" in ops
    weights = {t.name: t for t in model.graph.initializer}
    conv = next(n for n in model.graph.node if n.op_type == "Conv")
    dq = next(n for n in model.graph.node if n.output[0] == conv.input[1])  # the weight's DequantizeLinear
    assert weights[dq.input[0]].data_type == onnx.TensorProto.INT8
    assert len(onnx.numpy_helper.to_array(weights[dq.input[1]]).ravel()) > 1  # one scale per channel
    zero = onnx.numpy_helper.to_array(weights[dq.input[2]])
    assert not zero.any()  # symmetric, as TensorRT's int8 mode wants
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    assert session.run(None, {"image": np.zeros((2, 1, 8, 8), np.float32)})[0].shape == (2, 10)


def test_a_model_that_loses_accuracy_is_refused_and_nothing_is_written(trained, tmp_path, monkeypatch):
    import studio.export.quantize as quantize

    real = quantize.quantize_int8

    def damaged(blob, calibration, method=None):
        reduced, used = real(blob, calibration, method)
        model = onnx.load_from_string(reduced)
        for t in model.graph.initializer:  # every int8 weight flipped: a model that guesses
            if t.data_type == onnx.TensorProto.INT8 and len(t.dims) == 4:
                a = onnx.numpy_helper.to_array(t)
                t.CopyFrom(onnx.numpy_helper.from_array(-a, t.name))
        return model.SerializeToString(), used

    monkeypatch.setattr(quantize, "quantize_int8", damaged)
    project, run = trained
    out = tmp_path / "bad.onnx"
    with pytest.raises(PrecisionError) as info:
        export_reduced(project, out, "int8", weights=run, calibration=2)
    assert info.value.code == 1 and "more than the 1 allowed; nothing was written" in str(info.value)
    assert not out.exists()


def test_no_data_to_calibrate_on_is_a_clear_refusal(tmp_path):
    project = load(template_path("cnn_digits"))
    project.data = {}
    with pytest.raises(PrecisionError) as info:
        export_reduced(project, tmp_path / "x.onnx", "int8")
    assert info.value.code == 2
    assert str(info.value).startswith("int8 quantization calibrates on the project's training data, and there is none")
    assert not (tmp_path / "x.onnx").exists()


def test_float16_halves_the_file_and_is_checked_on_the_cpu(trained, tmp_path):
    project, run = trained
    out = tmp_path / "digits.fp16.onnx"
    report = export_reduced(project, out, "fp16", weights=run)
    model = onnx.load(str(out))
    kinds = {t.data_type for t in model.graph.initializer if len(t.dims) >= 2}
    assert kinds == {onnx.TensorProto.FLOAT16}
    assert model.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.FLOAT  # callers feed float32
    assert 0.4 < report.size_ratio < 0.6
    assert report.checked and report.drop is not None and report.drop <= 1.0 and report.max_diff < 0.05


def test_recurrent_and_linear_only_models_are_quantized_dynamically():
    from onnx import TensorProto, helper

    def model(op, inputs, extra):
        x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4, 4])
        y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
        g = helper.make_graph([helper.make_node(op, inputs, ["y"], **extra)], "g", [x], [y])
        return helper.make_model(g).SerializeToString()

    assert int8_method(model("LSTM", ["x", "W", "R"], {"hidden_size": 4}))[0] == DYNAMIC
    assert int8_method(model("MatMul", ["x", "W"], {}))[0] == DYNAMIC
    assert int8_method(model("Conv", ["x", "W"], {}))[0] == STATIC


def test_an_lstm_project_exports_int8_dynamically(tmp_path):
    project = load(template_path("lstm_sequence"))
    report = export_reduced(project, tmp_path / "lstm.onnx", "int8", max_drop=100)
    assert report.method == DYNAMIC and report.method_note.startswith("its LSTM and Linear weights are quantized "
                                                                      "dynamically")
    assert report.calibration_batches == 0 and report.metric == "accuracy"
    ops = {n.op_type for n in onnx.load(str(tmp_path / "lstm.onnx")).graph.node}
    assert "DynamicQuantizeLSTM" in ops or "DynamicQuantizeLinear" in ops


def test_weight_only_int8_keeps_a_convolution_close_and_a_quarter_of_the_size():
    from onnx import TensorProto, helper, numpy_helper

    from studio.export.quantize import weight_only

    rng = np.random.default_rng(0)
    w = (rng.standard_normal((64, 16, 5, 5)) * np.array([1, 10, 100, 1000] * 16)[:, None, None, None]).astype(np.float32)
    g = helper.make_graph([helper.make_node("Conv", ["x", "w"], ["y"])], "g",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 16, 8, 8])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
                          [numpy_helper.from_array(w, "w")])
    blob = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString()
    small = weight_only(blob)
    assert len(small) < 0.3 * len(blob)
    dq = onnx.load_from_string(small).graph.node[0]
    assert dq.op_type == "DequantizeLinear" and dq.attribute[0].i == 0  # one scale per output channel
    x = rng.standard_normal((2, 16, 8, 8)).astype(np.float32)
    a, b = (ort.InferenceSession(m, providers=["CPUExecutionProvider"]).run(None, {"x": x})[0] for m in (blob, small))
    per_channel = np.abs(a - b).max(axis=(0, 2, 3)) / np.abs(a).max(axis=(0, 2, 3))
    assert per_channel.max() < 0.02  # every channel within 2 % of its own range, small ones too
