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


def test_an_imported_model_is_named_after_its_file_and_its_outputs_after_what_they_are(waves_window, tmp_path, capsys):
    from studio.cli import main
    from studio.export.onnx import export_onnx
    from studio.ui.model_import import import_model

    window, _ = waves_window
    export_onnx(window.document.graph, tmp_path / "waves_classifier.onnx")
    path = import_model(window, tmp_path / "waves_classifier.onnx", tmp_path / "imported.json")
    doc = window.document
    assert doc.project.name == "waves_classifier"  # not the exporter's "main_graph"
    [out] = [n.id for n in doc.graph.nodes if n.type == "Output"]
    assert "loss" not in out  # class scores come out, not a loss
    # Outputs and no loss: ready for inference and export, a note; training asks for a loss.
    assert window.ready_label.text() == "Ready for inference"
    assert [p.severity for p in doc.analysis().problems if p.code == "no_loss"] == ["note"]
    assert main(["check", str(path)]) == 0


def test_one_click_in_the_problems_panel_adds_the_loss_that_fits(make_window):
    from studio.core.project import load
    from studio.resources import template_path

    project = load(template_path("cnn_digits"))
    window = make_window(project)
    doc = window.document
    doc.remove_nodes(["loss"])
    out = doc.add_node("Output")
    doc.connect("classifier", "out", out, "in")
    panel = window.problems
    [row] = [panel.topLevelItem(i) for i in range(panel.topLevelItemCount())
             if "No loss" in panel.topLevelItem(i).text(2)]
    assert row.text(0) == "note" and "Click to add Cross-entropy loss" in row.text(2)
    steps = doc.undo_stack.count()
    panel.itemClicked.emit(row, 2)
    losses = [n for n in doc.graph if doc.graph.spec(n).loss is not None]
    assert [n.type for n in losses] == ["CrossEntropyLoss"] and doc.undo_stack.count() == steps + 1
    assert doc.graph.edge_into(losses[0].id, "in").src == "classifier"
    assert window.ready_label.text() == "Ready to train"
    doc.undo_stack.undo()
    assert not any(doc.graph.spec(n).loss is not None for n in doc.graph)
