"""The Python API: the README's example runs as written; the calls are the command line's."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

import studio

README = Path(__file__).resolve().parents[1] / "README.md"


def readme_example() -> str:
    text = README.read_text()
    section = text[text.index("## From Python (notebooks)"):]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_the_readme_example_runs(tmp_path, monkeypatch, capsys):
    import torch

    torch.set_num_threads(1)
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(readme_example(), "README.md", "exec"), namespace)
    result, model, project = namespace["result"], namespace["model"], namespace["project"]
    assert result.stopped_reason == "completed" and len(result.history) == 1
    assert result.history[-1]["metrics"]["accuracy"] > 0.3  # ten digits: chance is 0.1
    assert (result.run_dir / "weights.safetensors").is_file()
    assert (tmp_path / "digits.onnx").is_file()
    report = namespace["report"]  # studio evaluate's own figures for the run
    assert report.metrics["accuracy"] == pytest.approx(result.history[-1]["metrics"]["accuracy"], abs=1e-6)
    assert report.confusion.sum() == report.samples
    # The model holds the run's weights: the run's own final module gives the same outputs.
    x = namespace["x"][:16]
    with torch.no_grad():
        assert torch.equal(model(x), result.model.eval()(x))
    assert isinstance(project, studio.Project)


def test_a_project_renders_as_svg_of_its_graph_without_qt():
    project = studio.load("cnn_digits")
    svg = project._repr_svg_()
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
    assert all(node.id in svg for node in project.graph.nodes)
    assert "[B, 32, 8, 8]" in svg  # the shape on a wire


def test_import_studio_loads_neither_torch_nor_qt_and_help_lists_the_api():
    code = ("import sys, pydoc, studio; p = studio.load('cnn_digits'); p._repr_svg_(); "
            "assert 'torch' not in sys.modules, 'torch'; assert 'PySide6' not in sys.modules, 'qt'; "
            "text = pydoc.render_doc(studio, renderer=pydoc.plaintext); "
            "assert 'class Project' in text and 'load(source' in text and 'templates()' in text, text")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr


def test_weights_of_a_run_folder_load_into_the_model(tmp_path):
    import torch

    torch.set_num_threads(1)
    project = studio.load("cnn_digits")
    result = project.train(epochs=1, batch_size=256, run_dir=tmp_path / "run", settings={"schedule": "none"})
    fresh = project.model()
    trained = project.model(weights=tmp_path / "run")
    x = project.data().val.fields["x"][:8]
    with torch.no_grad():
        assert torch.equal(trained(x), result.model.eval()(x))
        assert not torch.equal(fresh(x), trained(x))


def test_a_bad_project_file_raises_the_error_the_command_line_prints(tmp_path):
    from studio.core.errors import StudioError

    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    with pytest.raises(StudioError, match="bad.json"):
        studio.load(bad)
