"""Getting models out of Layer Studio and back in: ONNX (checked with onnxruntime),
standalone PyTorch code, weights, TorchScript, and ONNX import. No Qt here."""

from studio.export.errors import ExportError, ImportModelError

__all__ = ["ExportError", "ImportModelError"]
