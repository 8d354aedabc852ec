"""Generated PyTorch code: plain, torch-only, and exactly the app's model."""

from __future__ import annotations

import ast
import importlib.util
import subprocess
import sys

import pytest
import torch

from studio.compile.codegen import generate
from studio.core.project import load
from studio.export.common import build_module
from studio.export.pytorch import export_pytorch
from studio.resources import template_names, template_path

torch.set_num_threads(1)


def _import(path, name="generated_model"):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _randomize(module):
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for t in module.state_dict().values():
            if t.is_floating_point():
                t.copy_(torch.rand(t.shape, generator=gen) + 0.1)


def _round_trip(graph, tmp_path, inputs=None):
    module = build_module(graph)
    _randomize(module)
    report = export_pytorch(graph, tmp_path / "net.py", module=module)
    mod = _import(tmp_path / "net.py")
    model = mod.Model()
    model.load_state_dict(torch.load(tmp_path / "net.pt", weights_only=True))
    model.eval()
    xs = inputs or module.example_inputs(batch=4)
    with torch.no_grad():
        want, got = module(*xs), model(*xs)
    want = want if isinstance(want, tuple) else (want,)
    got = got if isinstance(got, tuple) else (got,)
    for w, g in zip(want, got):
        assert torch.equal(w, g)
    return report


@pytest.mark.parametrize("name", template_names())
def test_every_template_round_trips_exactly(name, registry, tmp_path):
    project = load(template_path(name), registry)
    report = _round_trip(project.graph, tmp_path)
    assert report.max_diff == 0.0


def test_plugin_layer_is_copied_into_the_file(graph, tmp_path):
    graph.add_node("Input", {"kind": "image", "channels": 8, "height": 5, "width": 5}, node_id="x")
    graph.add_node("Conv2d", {"out_channels": 8}, node_id="conv")
    graph.add_node("SqueezeExcite", {"reduction": 2}, node_id="se")
    graph.add_node("Output", node_id="y")
    graph.connect("x", "out", "conv", "in")
    graph.connect("conv", "out", "se", "in")
    graph.connect("se", "out", "y", "in")
    _round_trip(graph, tmp_path)
    source = (tmp_path / "net.py").read_text()
    assert "class SqueezeExcite(nn.Module):" in source


def test_generated_file_depends_only_on_torch_and_runs_in_a_fresh_python(registry, tmp_path):
    project = load(template_path("lstm_sequence"), registry)
    export_pytorch(project.graph, tmp_path / "net.py")
    tree = ast.parse((tmp_path / "net.py").read_text())
    imported = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert imported == {"torch", "__future__"}
    script = ("import sys, torch; sys.modules.pop('studio', None); sys.path[:] = [p for p in sys.path if 'work/main' "
              "not in p or 'site-packages' in p]; import net; m = net.Model(); "
              "m.load_state_dict(torch.load('net.pt', weights_only=True)); print(tuple(m(torch.randn(2, 7, 1)).shape))")
    out = subprocess.run([sys.executable, "-I", "-c", "import sys; sys.path.insert(0, '.');" + script],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "(2, 4)"


def test_forward_is_written_out_in_order(registry):
    project = load(template_path("cnn_digits"), registry)
    code = generate(project.graph)
    forward = code.source.split("def forward")[1]
    calls = [line.strip().split(" = ")[0] for line in forward.splitlines()[1:] if " = self." in line]
    assert calls == ["conv1", "bn1", "relu1", "conv2", "relu2", "pool1", "conv3", "bn2", "relu3", "pool2",
                     "flatten", "dropout", "classifier"]
    assert "self.conv1 = nn.Conv2d(in_channels=1, out_channels=32, kernel_size=3" in code.source
    assert "_plan" not in code.source


def test_names_that_shadow_python_builtins_still_work(graph, tmp_path):
    # Keywords and torch's own attribute names are refused by the graph; builtins are allowed.
    graph.add_node("Input", {"kind": "vector", "features": 3}, node_id="input")
    graph.add_node("Linear", {"out_features": 4}, node_id="sum")
    graph.add_node("ReLU", node_id="print")
    graph.add_node("Linear", {"out_features": 2}, node_id="len")
    graph.add_node("Output", node_id="object")
    graph.connect("input", "out", "sum", "in")
    graph.connect("sum", "out", "print", "in")
    graph.connect("print", "out", "len", "in")
    graph.connect("len", "out", "object", "in")
    _round_trip(graph, tmp_path)


def test_a_half_built_branch_is_left_out_like_the_compiler_does(graph, tmp_path):
    graph.add_node("Input", {"kind": "vector", "features": 3}, node_id="x")
    graph.add_node("Linear", {"out_features": 2}, node_id="fc")
    graph.add_node("Linear", {"out_features": 5}, node_id="unused")
    graph.add_node("Output", node_id="y")
    graph.connect("x", "out", "fc", "in")
    graph.connect("fc", "out", "y", "in")
    graph.connect("x", "out", "unused", "in")
    _round_trip(graph, tmp_path)
    assert "unused" not in (tmp_path / "net.py").read_text()
