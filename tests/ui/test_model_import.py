"""File > Import ONNX... opens the imported graph with its weights beside it."""

from __future__ import annotations


def test_import_onnx_opens_the_graph(waves_window, tmp_path):
    from studio.export.onnx import export_onnx
    from studio.ui.model_import import import_model

    window, _ = waves_window
    export_onnx(window.document.graph, tmp_path / "m.onnx")
    path = import_model(window, tmp_path / "m.onnx", tmp_path / "imported.json")
    assert window.document.path == path
    assert {n.type for n in window.document.graph.nodes} == {"Input", "LSTM", "Linear", "Output"}
    assert (tmp_path / "imported.weights.safetensors").is_file()
    assert "Imported m.onnx" in window.statusBar().currentMessage()
