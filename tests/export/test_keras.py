"""Keras 3 both ways on its torch backend: export, import, and round trips that reproduce outputs."""

import json
import os
import sys

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")  # before Keras is first imported

from studio.cli import main  # noqa: E402
from studio.core.project import load  # noqa: E402
from studio.export.common import build_module, sample_inputs  # noqa: E402
from studio.export.errors import ExportError, ImportModelError  # noqa: E402
from studio.resources import template_path  # noqa: E402

keras = pytest.importorskip("keras")
torch = pytest.importorskip("torch")


def _trained_like(module, seed=0):
    """Weights that are not the initial ones, BatchNorm statistics included."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, t in module.state_dict().items():
            if t.dtype.is_floating_point:
                t.copy_(torch.rand(t.shape, generator=gen) + 0.5 if "running_var" in name
                        else torch.randn(t.shape, generator=gen) * 0.3)
    return module.eval()


@pytest.mark.parametrize("template", ["cnn_digits", "lstm_sequence"])
def test_a_template_goes_to_keras_and_back_with_the_same_outputs(template, tmp_path):
    from studio.export.formats import export_project
    from studio.export.keras_import import import_keras

    torch.set_num_threads(1)
    project = load(template_path(template))
    module = _trained_like(build_module(project.graph))
    out = tmp_path / f"{template}.keras"
    report = export_project(project, "keras", out, weights=module.state_dict(), code=True)
    assert report.files == [str(out), str(out.with_suffix(".py"))]
    assert max(c["max_diff"] for c in report.checks) <= 1e-4
    sample = sample_inputs(module, {"dataset": project.data["dataset"]}, project.graph)

    # Keras itself, reading the file, gives the app's outputs on real data.
    model = keras.saving.load_model(out, safe_mode=True)
    for _, xs in [("data", sample.inputs), *sample.extra]:
        got = keras.ops.convert_to_numpy(model([x.numpy() for x in xs], training=False))
        np.testing.assert_allclose(got, module(*xs).detach().numpy(), atol=1e-4, rtol=1e-4)

    # The readable source builds the same model; the weights load into it from the file.
    scope = {}
    exec(compile(out.with_suffix(".py").read_text(), "generated", "exec"), scope)
    rebuilt = scope["build_model"]()
    rebuilt.load_weights(out)
    got = keras.ops.convert_to_numpy(rebuilt([x.numpy() for x in sample.inputs], training=False))
    np.testing.assert_allclose(got, module(*sample.inputs).detach().numpy(), atol=1e-4, rtol=1e-4)

    # And back: an editable project whose module computes what the original does.
    result = import_keras(out)
    assert result.check.max_abs <= 1e-4
    back = build_module(result.project.graph, result.state)
    kinds = [n.type for n in result.project.graph.nodes]
    original = [n.type for n in project.graph.nodes if n.type not in ("CrossEntropyLoss",)]
    assert kinds == [*original, "Output"]  # the same layers in the same order, a plain Output at the end
    with torch.no_grad():
        for _, xs in [("data", sample.inputs), *sample.extra]:
            np.testing.assert_allclose(back(*xs).numpy(), module(*xs).numpy(), atol=1e-4, rtol=1e-4)
    assert all(n.position != (0.0, 0.0) for n in result.project.graph.nodes[1:])  # laid out


def _keras_cnn():
    """A functional, channels-last Keras model of the common layers, as people write them."""
    inp = keras.Input((12, 12, 3), name="photo")
    a = keras.layers.Conv2D(8, 3, padding="same", activation="relu")(inp)
    b = keras.layers.BatchNormalization()(a)
    c = keras.layers.Conv2D(8, 3, padding="same")(b)
    d = keras.layers.Add()([b, c])
    e = keras.layers.MaxPooling2D()(d)
    f = keras.layers.Concatenate()([e, keras.layers.Conv2D(4, 1)(e)])
    g = keras.layers.Dropout(0.2)(keras.layers.Flatten()(f))
    return keras.Model(inp, keras.layers.Dense(5, activation="softmax")(g))


def test_a_channels_last_functional_keras_model_imports_and_computes_the_same(tmp_path):
    from studio.export.keras_import import import_keras

    model = _keras_cnn()
    for layer in model.layers:  # statistics that are not the initial ones
        if isinstance(layer, keras.layers.BatchNormalization):
            gamma, beta, mean, var = layer.get_weights()
            layer.set_weights([gamma * 1.5, beta + 0.1, mean + 0.2, var * 2.0])
    path = tmp_path / "cnn.keras"
    model.save(path)
    result = import_keras(path)
    graph = result.project.graph
    assert graph.node("photo").params["channels"] == 3  # images are channels first in Layer Studio
    x = np.random.default_rng(1).standard_normal((4, 12, 12, 3)).astype(np.float32)
    want = keras.ops.convert_to_numpy(model(x, training=False))
    module = build_module(graph, result.state)
    with torch.no_grad():
        got = module(torch.from_numpy(x.transpose(0, 3, 1, 2).copy())).numpy()
    np.testing.assert_allclose(got, want, atol=1e-5)


def test_a_sequence_model_with_embedding_gru_and_bidirectional_lstm_imports(tmp_path):
    from studio.export.keras_import import import_keras

    model = keras.Sequential([keras.Input((None,), dtype="int64"), keras.layers.Embedding(50, 8),
                              keras.layers.GRU(6, return_sequences=True),
                              keras.layers.Bidirectional(keras.layers.LSTM(5)), keras.layers.Dense(3)])
    path = tmp_path / "seq.keras"
    model.save(path)
    result = import_keras(path)
    types = [n.type for n in result.project.graph.nodes]
    assert types == ["Input", "Embedding", "GRU", "LSTM", "Linear", "Output"]
    x = np.random.default_rng(2).integers(0, 50, size=(3, 11))
    want = keras.ops.convert_to_numpy(model(x, training=False))
    with torch.no_grad():
        got = build_module(result.project.graph, result.state)(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(got, want, atol=1e-5)


def test_unsupported_layers_are_listed_by_name_and_count_and_nothing_is_written(tmp_path, capsys):
    model = keras.Sequential([keras.Input((10,)), keras.layers.Dense(4), keras.layers.UnitNormalization(),
                              keras.layers.Dense(3), keras.layers.UnitNormalization(),
                              keras.layers.GaussianNoise(0.1)])
    path = tmp_path / "odd.keras"
    model.save(path)
    code = main(["import", str(path), "--out", str(tmp_path / "odd.json"), "--json"])
    summary = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert code == 1 and summary["ok"] is False
    assert "UnitNormalization x2" in summary["message"] and "GaussianNoise x1" in summary["message"]
    assert not (tmp_path / "odd.json").exists()


def test_studio_export_and_import_keras_on_the_command_line(tmp_path, capsys):
    src = template_path("lstm_sequence")
    out = tmp_path / "model.keras"
    assert main(["export", str(src), "--format", "keras", "--out", str(out), "--code", "--json"]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    summary = lines[-1]
    assert summary["ok"] and summary["format"] == "keras" and summary["files"][1].endswith("model.py")
    assert any(c["case"].endswith("length 75") for c in summary["checks"])  # the sequence length stays free
    assert main(["import", str(out), "--out", str(tmp_path / "back.json"), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert summary["ok"] and summary["max_diff"] <= 1e-4
    back = load(tmp_path / "back.json")
    assert [n.type for n in back.graph.nodes] == ["Input", "LSTM", "Linear", "Output"]
    assert (tmp_path / "back.weights.safetensors").is_file()


def test_layers_with_no_keras_counterpart_are_named_in_the_preflight(tmp_path, capsys):
    from studio.export.keras import keras_preflight

    project = load(template_path("lstm_speech"))
    blockers = keras_preflight(project.graph)
    assert [b.node for b in blockers] == ["logmel"]
    assert "no Keras counterpart" in blockers[0].message
    code = main(["export", str(template_path("lstm_speech")), "--format", "keras", "--out", str(tmp_path / "s.keras")])
    err = capsys.readouterr().err
    assert code == 1 and "logmel" in err and not (tmp_path / "s.keras").exists()
    with pytest.raises(ExportError, match="logmel"):
        from studio.export.keras import keras_source

        keras_source(project.graph)


def test_without_keras_the_commands_say_what_to_install(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "keras", None)  # as if it were not installed
    code = main(["export", str(template_path("cnn_digits")), "--format", "keras", "--out", str(tmp_path / "m.keras")])
    err = capsys.readouterr().err
    assert code == 2 and 'pip install -e ".[keras]"' in err and err.count("\n") == 1
    (tmp_path / "m.keras").write_bytes(b"PK")
    code = main(["import", str(tmp_path / "m.keras"), "--out", str(tmp_path / "m.json")])
    err = capsys.readouterr().err
    assert code == 2 and 'pip install -e ".[keras]"' in err


def test_a_file_keras_cannot_read_is_refused_in_one_line(tmp_path, capsys):
    bad = tmp_path / "broken.keras"
    bad.write_bytes(b"not a zip file")
    code = main(["import", str(bad), "--out", str(tmp_path / "b.json")])
    err = capsys.readouterr().err
    assert code == 2 and "broken.keras" in err and err.count("\n") == 1


def test_import_refuses_what_keras_computes_differently(tmp_path):
    from studio.export.keras_import import import_keras

    model = keras.Sequential([keras.Input((6, 4)), keras.layers.GRU(3, reset_after=False)])
    path = tmp_path / "gru.keras"
    model.save(path)
    with pytest.raises(ImportModelError, match="GRU x1"):
        import_keras(path)
