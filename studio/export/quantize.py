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
RECURRENT_OPS = {"LSTM", "GRU", "RNN"}
CONV_OPS = {"Conv", "ConvTranspose"}


def int8_method(blob: bytes) -> tuple[str, str]:
    """Static or dynamic quantization for this model, and why."""
    import onnx

    ops = {n.op_type for n in onnx.load_from_string(blob).graph.node}
    recurrent = sorted(ops & RECURRENT_OPS)
    if recurrent:
        return DYNAMIC, f"its {', '.join(recurrent)} weights are quantized dynamically (static QDQ has no recurrent form)"
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
            _preprocess(src, prepared)
            if method == DYNAMIC:
                quantize_dynamic(prepared, out, weight_type=QuantType.QInt8, per_channel=True)
            else:
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
