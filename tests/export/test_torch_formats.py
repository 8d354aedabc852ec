"""TorchScript and torch.export programs: checked at a second batch size and written atomically."""

from __future__ import annotations

import warnings

import pytest
import torch

from studio.core.project import load
from studio.export.common import build_module
from studio.export.errors import ExportError
from studio.export.pytorch import export_program, export_torchscript
from studio.resources import template_path

torch.set_num_threads(1)


def test_program_loads_and_matches_at_another_batch_size(registry, tmp_path):
    project = load(template_path("transfer_digits"), registry)
    module = build_module(project.graph)
    report = export_program(project.graph, tmp_path / "m.pt2", module=module, data=project.data)
    assert report.max_diff == 0.0 and len(report.checks) == 2
    loaded = torch.export.load(str(tmp_path / "m.pt2")).module()
    x = torch.rand(11, 1, 8, 8)
    with torch.no_grad():
        assert torch.equal(loaded(x), module(x))


def test_torchscript_of_a_two_input_token_model(registry, tmp_path):
    project = load(template_path("seq2seq_dates"), registry)
    module = build_module(project.graph)
    report = export_torchscript(project.graph, tmp_path / "m.ts", module=module, data=project.data)
    assert report.max_diff == 0.0 and any("length" in c["case"] for c in report.checks)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scripted = torch.jit.load(str(tmp_path / "m.ts"))
    xs = module.example_inputs(batch=3)
    with torch.no_grad():
        want, got = module(*xs), scripted(*xs)
    assert all(torch.equal(a, b) for a, b in zip(want if isinstance(want, tuple) else (want,),
                                                  got if isinstance(got, tuple) else (got,)))


def test_a_graph_with_problems_writes_no_program(graph, tmp_path):
    graph.add_node("Input", {"kind": "vector", "features": 4}, node_id="x")
    graph.add_node("Linear", {"out_features": 2}, node_id="fc")
    graph.add_node("Output", node_id="y")
    graph.connect("fc", "out", "y", "in")
    with pytest.raises(ExportError, match="fc"):
        export_torchscript(graph, tmp_path / "m.ts")
    assert list(tmp_path.iterdir()) == []
