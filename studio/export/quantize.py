"""Reduced-precision ONNX: int8 (ONNX Runtime quantization) and float16.

int8 is static QDQ quantization where it fits: QuantizeLinear / DequantizeLinear pairs
around each quantized operator, weights per channel, activations calibrated on batches
of the project's own training data, both symmetric int8 (zero point 0), the form
accelerator toolchains read (TensorRT's int8 mode, FPGA and NPU compilers). Models whose
weights sit in recurrent layers, or with no convolution at all (Linear only), get dynamic
quantization instead: int8 weights, activations quantized per batch at run time, no
calibration. float16 converts every weight and operator and keeps float32 inputs and
outputs, so callers feed the model as before.

Everything here works on ONNX bytes; the float model comes from :mod:`studio.export.onnx`.
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
from pathlib import Path
from typing import Iterable

from studio.export.errors import ExportError

STATIC, DYNAMIC = "static", "dynamic"
DYNAMIC_OPS = ["LSTM", "MatMul", "Gemm"]  # what ONNX Runtime quantizes dynamically (weights in initializers)
# op -> output-channel axis of its weight. Matrix products whose weight is a constant stay
# float: such a constant shapes features (a mel filter bank), and at 8 bits its quiet
# filters lose the 80 dB range a log spectrum keeps (lstm_speech fell to chance).
WEIGHT_ONLY_OPS = {"Conv": 0, "ConvTranspose": 1}
WEIGHT_ONLY_MIN = 1024  # values: smaller tensors stay float
RECURRENT_OPS = {"LSTM", "GRU", "RNN"}
CONV_OPS = {"Conv", "ConvTranspose"}


def int8_method(blob: bytes) -> tuple[str, str]:
    """Static or dynamic quantization for this model, and why."""
    import onnx

    ops = {n.op_type for n in onnx.load_from_string(blob).graph.node}
    recurrent = sorted(ops & RECURRENT_OPS)
    if recurrent:
        return DYNAMIC, (f"its {', '.join(recurrent)} and Linear weights are quantized dynamically (static QDQ has no "
                         f"recurrent form), convolution weights stored in int8")
    if not ops & CONV_OPS:
        return DYNAMIC, "a model without convolutions (Linear only) is quantized dynamically"
    return STATIC, "static QDQ, weights per channel, activations calibrated on the training data"


def quantize_int8(blob: bytes, calibration: Iterable[dict] | None, method: str | None = None) -> tuple[bytes, str]:
    """The int8 model and the method used. ``calibration`` yields feeds (input name ->
    numpy array) of real data; static quantization needs at least one."""
    from onnxruntime.quantization import QuantFormat, QuantType, quantize_dynamic, quantize_static

    method = method or int8_method(blob)[0]
    with tempfile.TemporaryDirectory(prefix="studio-int8-") as tmp, _quiet():
        src, prepared, out = (Path(tmp) / name for name in ("float.onnx", "prepared.onnx", "int8.onnx"))
        src.write_bytes(blob)
        try:
            if method == DYNAMIC:
                # Without the pre-processing: its constant folding would turn a fixed
                # front end (an STFT's DFT basis, a mel matrix) into weights to quantize
                # dynamically, and a log spectrum of int8 activations loses the quiet parts.
                quantize_dynamic(src, out, weight_type=QuantType.QInt8, per_channel=True,
                                 op_types_to_quantize=DYNAMIC_OPS)
                out.write_bytes(weight_only(out.read_bytes()))
            else:
                _preprocess(src, prepared)
                feeds = list(calibration or [])
                if not feeds:
                    raise ExportError("static int8 quantization needs calibration data, and none was given")
                quantize_static(prepared, out, _Reader(feeds), quant_format=QuantFormat.QDQ, per_channel=True,
                                activation_type=QuantType.QInt8, weight_type=QuantType.QInt8,
                                extra_options={"ActivationSymmetric": True, "WeightSymmetric": True})
        except ExportError:
            raise
        except Exception as exc:
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise ExportError(f"int8 quantization failed: {first}") from None
        return compact_names(out.read_bytes()), method


def convert_fp16(blob: bytes) -> bytes:
    """The model in float16, with float32 inputs and outputs."""
    import onnx
    from onnxruntime.transformers.float16 import convert_float_to_float16

    try:
        with _quiet():
            model = convert_float_to_float16(onnx.load_from_string(blob), keep_io_types=True)
        return compact_names(model.SerializeToString())
    except Exception as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise ExportError(f"float16 conversion failed: {first}") from None


def weight_only(blob: bytes) -> bytes:
    """Store the large convolution weights that dynamic quantization leaves (a learned
    kernel, or a constant such as an STFT's basis) as int8 with a DequantizeLinear in
    front, symmetric, per output channel: a quarter of the bytes, computed in float."""
    import numpy as np
    import onnx
    from onnx import numpy_helper

    model = onnx.load_from_string(blob)
    g = model.graph
    inits = {t.name: t for t in g.initializer}
    constants = {n.output[0]: n for n in g.node if n.op_type == "Constant" and len(n.output) == 1
                 and n.attribute and n.attribute[0].name == "value"}
    users: dict[str, int] = {}
    for n in g.node:
        for name in n.input:
            users[name] = users.get(name, 0) + 1
    new_nodes, done = [], set()
    for n in g.node:
        if n.op_type not in WEIGHT_ONLY_OPS or len(n.input) < 2 or n.input[1] in done:
            continue
        name = n.input[1]
        tensor = inits.get(name) or (constants[name].attribute[0].t if name in constants else None)
        if tensor is None or tensor.data_type != onnx.TensorProto.FLOAT or users.get(name, 0) != 1:
            continue
        w = numpy_helper.to_array(tensor).astype(np.float32)
        if w.size < WEIGHT_ONLY_MIN:
            continue
        axis = WEIGHT_ONLY_OPS[n.op_type]
        if w.ndim > 1:
            reduce = tuple(i for i in range(w.ndim) if i != axis)
            scale = np.abs(w).max(axis=reduce) / 127.0
            shape = [1] * w.ndim
            shape[axis] = -1
            q = np.round(w / np.where(scale == 0, 1, scale).reshape(shape))
        else:
            scale = np.array(np.abs(w).max() / 127.0, dtype=np.float32)
            q = np.round(w / (scale if scale else 1))
        scale = np.where(scale == 0, 1, scale).astype(np.float32)
        q = np.clip(q, -127, 127).astype(np.int8)
        base = f"{name}_int8"
        g.initializer.extend([numpy_helper.from_array(q, base), numpy_helper.from_array(scale, base + "_scale"),
                              numpy_helper.from_array(np.zeros(scale.shape, np.int8), base + "_zero")])
        attrs = {"axis": axis} if w.ndim > 1 else {}
        new_nodes.append(onnx.helper.make_node("DequantizeLinear", [base, base + "_scale", base + "_zero"],
                                               [name], name=base + "_dequantize", **attrs))
        if name in inits:
            g.initializer.remove(inits.pop(name))
        else:
            g.node.remove(constants.pop(name))
        done.add(name)
    if not new_nodes:
        return blob
    nodes = new_nodes + list(g.node)  # a DequantizeLinear reads initializers only: first is in order
    del g.node[:]
    g.node.extend(nodes)
    return model.SerializeToString()


def compact_names(blob: bytes) -> bytes:
    """Short names for the model's inner tensors and nodes. The quantizer names each new
    tensor after the one it came from (``onnx::Conv_32_DequantizeLinear_Output``): on a
    small model those names weigh a fifth of the file. The inputs and outputs keep their
    names (the Input and Output node ids), and each node is named after its operator."""
    import onnx

    model = onnx.load_from_string(blob)
    g = model.graph
    if any(a.type in (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS) for n in g.node for a in n.attribute):
        return blob  # a subgraph may read outer names: left as it is
    keep = {v.name for v in g.input} | {v.name for v in g.output} | {""}
    names: dict[str, str] = {}

    def short(name: str) -> str:
        if name in keep:
            return name
        if name not in names:
            names[name] = f"t{len(names)}"
        return names[name]

    for t in g.initializer:
        t.name = short(t.name)
    for i, node in enumerate(g.node):
        node.input[:] = [short(n) for n in node.input]
        node.output[:] = [short(n) for n in node.output]
        node.name = f"{node.op_type}_{i}"
        node.doc_string = ""
    for v in g.value_info:
        v.name = short(v.name)
    return model.SerializeToString()


def _preprocess(src: Path, dst: Path) -> None:
    """ONNX Runtime's recommended step before quantizing: shape inference and graph
    optimisation (folds BatchNorm into the convolution before it). Where it cannot run
    (symbolic shapes it does not follow), the model is quantized as it is."""
    from onnxruntime.quantization.shape_inference import quant_pre_process

    try:
        quant_pre_process(str(src), str(dst), skip_symbolic_shape=True)
    except Exception:
        dst.write_bytes(src.read_bytes())


class _Reader:
    """onnxruntime's CalibrationDataReader over a list of feeds."""

    def __init__(self, feeds: list[dict]) -> None:
        self.feeds = feeds
        self.it = iter(feeds)

    def get_next(self):
        return next(self.it, None)

    def rewind(self) -> None:
        self.it = iter(self.feeds)


@contextlib.contextmanager
def _quiet():
    """onnxruntime's quantizer logs and prints warnings; `studio export --json` keeps stdout clean."""
    import logging
    import warnings

    level = logging.getLogger().level
    logging.getLogger().setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            yield
    finally:
        logging.getLogger().setLevel(level)
