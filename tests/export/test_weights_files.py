"""Weights files: run folders, safetensors, state_dicts; hostile files are refused unexecuted."""

from __future__ import annotations

import os
import pickle

import pytest
import torch

from studio.core.project import load
from studio.export.common import build_module
from studio.export.pytorch import export_weights
from studio.export.weights import WeightsError, load_into, read_state_dict, save_weights
from studio.resources import template_path


class _Payload:
    """Unpickling this would create a file: proof that code ran."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.makedirs, (self.marker,))


@pytest.fixture
def cnn(registry):
    return load(template_path("cnn_digits"), registry)


def test_a_pickle_payload_is_refused_and_never_runs(tmp_path):
    marker = tmp_path / "payload_ran"
    path = tmp_path / "evil.pt"
    with open(path, "wb") as f:
        pickle.dump({"layers.fc.weight": _Payload(str(marker))}, f)
    with pytest.raises(WeightsError, match="holds code") as info:
        read_state_dict(path)
    assert "evil.pt" in str(info.value)
    assert not marker.exists()


def test_a_truncated_safetensors_file_is_refused(cnn, tmp_path):
    path = tmp_path / "w.safetensors"
    export_weights(cnn.graph, path)
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(WeightsError, match="w.safetensors: not a readable safetensors"):
        read_state_dict(path)


def test_garbage_under_a_torch_suffix_is_refused(tmp_path):
    path = tmp_path / "w.ckpt"
    path.write_bytes(b"not a checkpoint at all" * 10)
    with pytest.raises(WeightsError, match="w.ckpt"):
        read_state_dict(path)


def test_a_run_folder_prefers_final_weights_then_best_checkpoint(cnn, tmp_path):
    module = build_module(cnn.graph)
    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    best = {k: v + 1 if v.is_floating_point() else v for k, v in module.state_dict().items()}
    torch.save({"model": best, "epoch": 3}, run / "checkpoints" / "best.ckpt")
    got = read_state_dict(run)
    assert torch.equal(got["layers.conv1.weight"], best["layers.conv1.weight"])
    save_weights(module.state_dict(), run / "weights.safetensors")
    got = read_state_dict(run)
    assert torch.equal(got["layers.conv1.weight"], module.state_dict()["layers.conv1.weight"])
    with pytest.raises(WeightsError, match="no weights.safetensors"):
        read_state_dict(tmp_path)


def test_weights_that_do_not_fit_name_the_nodes(cnn, registry, tmp_path):
    lstm = build_module(load(template_path("lstm_sequence"), registry).graph)
    module = build_module(cnn.graph)
    with pytest.raises(WeightsError) as info:
        load_into(module, lstm.state_dict(), "lstm.safetensors")
    message = str(info.value)
    assert "missing for nodes conv1" in message and "not in the graph: nodes lstm" in message
    assert "layers.classifier.weight is [4, 64] in the file but [10, 256] in the graph" in message


def test_state_dict_and_safetensors_round_trip(cnn, tmp_path):
    module = build_module(cnn.graph)
    for name in ("w.safetensors", "w.pt"):
        export_weights(cnn.graph, tmp_path / name, module=module)
        other = build_module(cnn.graph)
        load_into(other, read_state_dict(tmp_path / name))
        for k, v in module.state_dict().items():
            assert torch.equal(other.state_dict()[k], v)


def test_loading_weights_hands_each_layer_only_its_own(cnn, monkeypatch):
    """torch's load_state_dict filters the whole dict once per child module: quadratic
    on a graph of 100,000 nodes. Each layer gets its share, split off in one pass."""
    module = build_module(cnn.graph)
    state = {k: torch.randn_like(v) if v.is_floating_point() else v for k, v in module.state_dict().items()}
    offered = []
    real = torch.nn.Module.load_state_dict

    def counting(self, state_dict, *args, **kwargs):
        offered.append(len(state_dict))
        return real(self, state_dict, *args, **kwargs)

    monkeypatch.setattr(torch.nn.Module, "load_state_dict", counting)
    load_into(module, state)
    per_layer = max(sum(1 for k in state if k.split(".")[1] == n) for n in module.layers)
    assert offered and max(offered) <= per_layer < len(state)
    assert sum(offered) == len(state)
    assert all(torch.equal(v, state[k]) for k, v in module.state_dict().items())
