import math

import pytest
import torch

from studio.compile.module import compile_graph
from studio.core.analysis import analyze


def _graph(graph, length=8000, **params):
    graph.add_node("Input", {"kind": "waveform", "field": "x", "length": length}, node_id="audio")
    graph.add_node("LogMel", params, node_id="logmel")
    graph.add_node("Output", node_id="out")
    graph.add_node("MSELoss", node_id="loss")  # a graph needs a loss to compile
    graph.connect("audio", "out", "logmel", "in")
    graph.connect("logmel", "out", "out", "in")
    graph.connect("logmel", "out", "loss", "in")
    return graph


def _mel(graph, **params):
    model = compile_graph(_graph(graph, **params)).eval()
    i = model.output_names.index("out")
    return lambda x: model(x)[i]


def test_logmel_shape_rule_matches_the_module(graph):
    _graph(graph, length=6000, hop_length=128, n_mels=24)
    a = analyze(graph)
    assert not a.errors
    assert a.nodes["logmel"].outputs["out"].dims == ("B", 6000 // 128 + 1, 24)
    model = compile_graph(graph)
    assert tuple(model(torch.randn(3, 6000))[0].shape) == (3, 47, 24)
    assert not model.state_dict()  # filters and window are derived, not weights


def test_logmel_puts_a_tone_in_its_band(graph):
    model = _mel(graph, normalize=False, n_mels=40)
    t = torch.arange(8000) / 8000
    low = model(torch.sin(2 * math.pi * 300 * t)[None])[0].mean(0)
    high = model(torch.sin(2 * math.pi * 2500 * t)[None])[0].mean(0)
    assert int(low.argmax()) < int(high.argmax())
    assert int(high.argmax()) > 25  # 2.5 kHz sits high on a 40-band 0-4 kHz mel scale


def test_logmel_normalize_removes_gain(graph):
    model = _mel(graph, normalize=True)
    x = torch.randn(1, 8000)
    a, b = model(x), model(10 * x)
    assert torch.allclose(a, b, atol=1e-3)
    assert a.mean(1).abs().max() < 1e-4


def test_logmel_refuses_non_audio_input(graph):
    graph.add_node("Input", {"kind": "image", "channels": 1, "height": 8, "width": 8}, node_id="img")
    graph.add_node("LogMel", node_id="logmel")
    graph.connect("img", "out", "logmel", "in")
    problems = [str(p) for p in analyze(graph).problems]
    assert any("LogMel expects raw audio" in e and "waveform" in e for e in problems)


def test_logmel_rejects_f_max_above_nyquist(graph):
    _graph(graph, sample_rate=8000, f_max=6000.0)
    assert any("half the sample rate" in str(p) for p in analyze(graph).problems)


def test_logmel_matches_torch_stft(graph):
    """The DFT-as-convolution front end gives the numbers torch.stft would."""
    mel = _mel(graph, normalize=False, top_db=0.0)
    module = compile_graph(graph).layers["logmel"]
    x = 0.1 * torch.randn(4, 8000)
    spec = torch.stft(x, 256, 80, window=torch.hann_window(256), center=True, pad_mode="constant",
                      return_complex=True)
    power = spec.real ** 2 + spec.imag ** 2
    want = torch.log(power.transpose(1, 2) @ module.filters + 1e-10)
    assert (mel(x) - want).abs().max() < 1e-4


@pytest.mark.parametrize("dynamo", [False, True])
def test_logmel_exports_to_onnx_with_dynamic_length(graph, tmp_path, dynamo):
    ort = pytest.importorskip("onnxruntime")
    mel = _mel(graph, length=0)

    class Front(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.logmel = graph_module.layers["logmel"]

        def forward(self, x):
            return self.logmel(x)

    graph_module = compile_graph(graph).eval()
    path = tmp_path / "logmel.onnx"
    if dynamo:
        dim = torch.export.Dim.AUTO
        torch.onnx.export(Front().eval(), (torch.randn(2, 8000),), str(path), dynamo=True, external_data=False,
                          dynamic_shapes=({0: dim, 1: dim},), verbose=False)
    else:
        torch.onnx.export(Front().eval(), (torch.randn(2, 8000),), str(path), dynamo=False,
                          input_names=["x"], dynamic_axes={"x": {0: "batch", 1: "samples"}})
    session = ort.InferenceSession(str(path))
    name = session.get_inputs()[0].name
    for n in (8000, 5000):
        x = torch.randn(3, n)
        got = session.run(None, {name: x.numpy()})[0]
        assert got.shape == (3, n // 80 + 1, 40)
        assert abs(got - mel(x).detach().numpy()).max() < 1e-3


def test_logmel_floor_makes_silence_and_faint_noise_alike(graph):
    model = _mel(graph, normalize=False, top_db=60.0)
    t = torch.arange(8000) / 8000
    tone = torch.where(t < 0.5, torch.sin(2 * math.pi * 440 * t), torch.zeros(()))[None]
    hiss = tone + 1e-4 * torch.randn(1, 8000) * (t >= 0.5)
    a, b = model(tone), model(hiss)
    assert torch.allclose(a[:, 55:], b[:, 55:], atol=1e-4)  # the hiss sits below the floor
    assert torch.allclose(a[:, :45], b[:, :45], atol=1e-2)  # and hardly touches the tone
    floor = a.max() - 60 * math.log(10) / 10
    assert torch.isclose(a.min(), floor, atol=1e-4)
