"""ONNX import: models made elsewhere become graphs that re-export with the same outputs."""

from __future__ import annotations

import warnings

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from torch import nn

from studio.core.project import load
from studio.export.common import build_module
from studio.export.errors import ImportModelError
from studio.export.onnx import export_onnx
from studio.export.onnx_import import import_onnx

torch.set_num_threads(1)


class ResidualCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.c2 = nn.Conv2d(4, 4, 3, padding=1)
        self.fc = nn.Linear(4 * 4 * 4, 3)

    def forward(self, x):
        y = torch.relu(self.bn(self.c1(x)))
        y = torch.relu(self.c2(y) + y)
        y = nn.functional.max_pool2d(y, 2)
        return self.fc(y.flatten(1))


class TwoBranch(nn.Module):
    def __init__(self):
        super().__init__()
        self.a, self.b = nn.Linear(5, 4), nn.Linear(5, 6)
        self.bn = nn.BatchNorm1d(10)
        self.fc = nn.Linear(10, 2)

    def forward(self, x):
        y = torch.cat([torch.tanh(self.a(x)), torch.sigmoid(self.b(x))], dim=1)
        return torch.softmax(self.fc(self.bn(y)), -1)


class Recurrent(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(3, 8, batch_first=True)
        self.fc = nn.Linear(8, 2)

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.fc(out[:, -1])


class StackedGRU(nn.Module):
    """Two layers: the exporter writes two ONNX GRU operators chained through transposes."""

    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(3, 6, num_layers=2, batch_first=True)
        self.fc = nn.Linear(6, 2)

    def forward(self, x):
        _, h = self.gru(x)
        return self.fc(h[-1])


class BiSequence(nn.Module):
    """A bidirectional LSTM whose every step is classified: [B, T, 2H] -> Linear."""

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(3, 5, batch_first=True, bidirectional=True)
        self.fc = nn.Linear(10, 4)

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.fc(out)


class Unsupported(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x):
        return torch.sin(self.fc(torch.sin(x))).cumsum(1)


def _trained_like(model):
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for t in model.state_dict().values():
            if t.is_floating_point():
                t.copy_(torch.randn(t.shape, generator=gen) * 0.5 + (1.0 if t.dim() == 1 else 0.0))
    return model.eval()


def _export(model, x, path, sequence=False):
    axes = {0: "batch", 1: "time"} if sequence else {0: "batch"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (x,), str(path), dynamo=False, input_names=["x"], output_names=["y"],
                          dynamic_axes={"x": axes})
    return path


def _run(path, x):
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {"x": x.numpy()})[0]


CASES = [
    ("residual_cnn", ResidualCNN, [torch.randn(2, 1, 8, 8), torch.randn(5, 1, 8, 8)], {"Add", "Conv2d", "MaxPool2d"}),
    ("concat", TwoBranch, [torch.randn(4, 5), torch.randn(7, 5)], {"Concat", "BatchNorm1d", "Softmax"}),
    ("lstm", Recurrent, [torch.randn(2, 5, 3), torch.randn(3, 11, 3)], {"LSTM", "Linear"}),
    ("gru", StackedGRU, [torch.randn(2, 5, 3), torch.randn(3, 9, 3)], {"GRU", "Linear"}),
    ("bilstm", BiSequence, [torch.randn(2, 5, 3), torch.randn(3, 8, 3)], {"LSTM", "Linear"}),
]


@pytest.mark.parametrize("name,cls,inputs,layers", CASES, ids=[c[0] for c in CASES])
def test_imported_model_reexports_with_the_same_outputs(name, cls, inputs, layers, registry, tmp_path):
    original = _export(_trained_like(cls()), inputs[0], tmp_path / "original.onnx", sequence=name in ("lstm", "gru", "bilstm"))
    result = import_onnx(original, registry)
    graph = result.project.graph
    assert layers <= {n.type for n in graph.nodes}
    project_path, weights_path = result.save(tmp_path / "imported.json")
    reloaded = load(project_path, registry)
    module = build_module(reloaded.graph, weights_path)
    report = export_onnx(reloaded.graph, tmp_path / "again.onnx", module=module)
    assert report.max_diff <= 1e-4
    for x in inputs:
        np.testing.assert_allclose(_run(tmp_path / "again.onnx", x), _run(original, x), atol=1e-5)
    assert len({n.position for n in reloaded.graph.nodes}) == len(reloaded.graph)  # laid out, not stacked


def test_lstm_zero_state_and_shape_computations_are_folded_not_dropped(registry, tmp_path):
    original = _export(_trained_like(Recurrent()), torch.randn(2, 5, 3), tmp_path / "m.onnx", sequence=True)
    result = import_onnx(original, registry)
    assert result.folded.get("ConstantOfShape") == 1 and result.folded.get("Shape") == 1
    assert [n.type for n in result.project.graph.nodes] == ["Input", "LSTM", "Linear", "Output"]
    assert result.project.graph.node("x").params["length"] == 0  # the length stays free


def test_a_dynamo_export_with_weights_left_as_slices_imports_too(registry, tmp_path):
    model = _trained_like(Recurrent())
    x = torch.randn(2, 5, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        program = torch.onnx.export(model, (x,), dynamo=True, input_names=["x"], output_names=["y"],
                                    dynamic_shapes=({0: torch.export.Dim.AUTO, 1: torch.export.Dim.AUTO},),
                                    verbose=False)
    program.save(str(tmp_path / "d.onnx"), external_data=False)
    result = import_onnx(tmp_path / "d.onnx", registry)
    assert [n.type for n in result.project.graph.nodes] == ["Input", "LSTM", "Linear", "Output"]
    module = build_module(result.project.graph, result.state)
    export_onnx(result.project.graph, tmp_path / "again.onnx", module=module)
    for xs in (x, torch.randn(4, 9, 3)):
        np.testing.assert_allclose(_run(tmp_path / "again.onnx", xs), _run(tmp_path / "d.onnx", xs), atol=1e-5)


def test_the_last_step_of_a_bidirectional_lstm_is_refused_not_mistaken(registry, tmp_path):
    class BiLast(BiSequence):
        def forward(self, x):
            out, _ = self.lstm(x)
            return self.fc(out[:, -1])

    path = _export(BiLast().eval(), torch.randn(2, 5, 3), tmp_path / "m.onnx", sequence=True)
    with pytest.raises(ImportModelError, match="Gather x1 .the last step of a bidirectional sequence"):
        import_onnx(path, registry)


def test_unmapped_operators_are_listed_by_name_and_count(registry, tmp_path):
    path = _export(Unsupported().eval(), torch.randn(2, 4), tmp_path / "m.onnx")
    with pytest.raises(ImportModelError) as info:
        import_onnx(path, registry)
    message = str(info.value)
    assert "Sin x2" in message and "CumSum x1" in message and "m.onnx" in message


def test_a_layer_studio_export_imports_back(registry, tmp_path):
    from studio.resources import template_path

    project = load(template_path("cnn_digits"), registry)
    module = build_module(project.graph)
    export_onnx(project.graph, tmp_path / "c.onnx", module=module)
    result = import_onnx(tmp_path / "c.onnx", registry)
    types = [n.type for n in result.project.graph.nodes]
    assert types.count("Conv2d") == 3 and "Linear" in types
    back = build_module(result.project.graph, result.state)
    x = torch.rand(3, 1, 8, 8)
    with torch.no_grad():
        assert torch.allclose(back(x), module(x), atol=1e-5)


@pytest.mark.parametrize("content,match", [
    (b"", "holds no ONNX graph"),
    (b"\x08\x07\x12\x04junk\xff\xff\xff", "not a valid ONNX file"),
    (b"import os; os.system('echo pwned')\n", "not a valid ONNX file|holds no ONNX graph"),
])
def test_malformed_files_are_refused(content, match, registry, tmp_path):
    path = tmp_path / "bad.onnx"
    path.write_bytes(content)
    with pytest.raises(ImportModelError, match=match):
        import_onnx(path, registry)


def test_a_truncated_model_is_refused(registry, tmp_path):
    path = _export(ResidualCNN().eval(), torch.randn(2, 1, 8, 8), tmp_path / "m.onnx")
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(ImportModelError, match="m.onnx: not a valid ONNX file; it may be truncated"):
        import_onnx(path, registry)


def test_weights_in_an_external_file_are_refused(registry, tmp_path):
    path = _export(ResidualCNN().eval(), torch.randn(2, 1, 8, 8), tmp_path / "m.onnx")
    model = onnx.load(str(path))
    onnx.save_model(model, str(tmp_path / "ext.onnx"), save_as_external_data=True, size_threshold=0,
                    location="ext.data")
    with pytest.raises(ImportModelError, match="external data"):
        import_onnx(tmp_path / "ext.onnx", registry)
