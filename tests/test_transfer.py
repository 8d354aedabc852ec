"""Transfer learning: weights matched by node name and shape, frozen nodes stay put,
and the template's fine-tuning beats training from scratch."""

from __future__ import annotations

import copy
import statistics

import torch

from studio.compile.module import compile_graph
from studio.core.project import load
from studio.export.onnx import export_onnx
from studio.resources import template_path
from studio.training import train_project
from studio.training.pretrained import PretrainedWeights
from studio.transfer import sibling_weights, transfer_weights

torch.set_num_threads(1)


def _template(registry):
    return load(template_path("transfer_digits"), registry)


def _accuracy(result) -> float:
    return max(v for k, v in result.metrics.items() if "accuracy" in k)


def test_the_shipped_weights_load_the_body_and_leave_the_new_head(registry):
    project = _template(registry)
    weights = sibling_weights(template_path("transfer_digits"))
    assert weights is not None and weights.stat().st_size < 300_000
    module = compile_graph(project.graph)
    before = module.state_dict()["layers.head.weight"].clone()
    report = transfer_weights(module, weights)
    assert report.matched == ["conv1", "conv2"]
    assert report.skipped == {"head": "no node of this name in the source"}
    assert report.unused == ["source_head"]
    assert torch.equal(module.state_dict()["layers.head.weight"], before)
    assert "2 node(s) loaded (conv1, conv2)" in str(report)


def test_a_shape_mismatch_is_skipped_with_the_reason(registry):
    project = _template(registry)
    project.graph.set_params("conv2", {"out_channels": 24})
    report = transfer_weights(compile_graph(project.graph), sibling_weights(template_path("transfer_digits")))
    assert report.matched == ["conv1"]
    assert report.skipped["conv2"] == ("weight is [32, 16, 3, 3] in the source but [24, 16, 3, 3] here; "
                                       "bias is [32] in the source but [24] here")


def test_weights_come_from_an_onnx_model_by_node_name(registry, tmp_path):
    source = load(template_path("cnn_digits"), registry)
    trained = compile_graph(source.graph).eval()
    export_onnx(source.graph, tmp_path / "m.onnx", module=trained)
    target = load(template_path("cnn_digits"), registry)
    target.graph.set_params("classifier", {"out_features": 3})
    module = compile_graph(target.graph)
    report = transfer_weights(module, tmp_path / "m.onnx")
    assert {"conv1", "conv2", "conv3"} <= set(report.matched)
    assert "classifier" in report.skipped
    assert torch.equal(module.state_dict()["layers.conv2.weight"], trained.state_dict()["layers.conv2.weight"])
    # conv3 is followed by a BatchNorm, which the exporter folds into it for inference.
    assert torch.allclose(module.state_dict()["layers.conv3.weight"], trained.state_dict()["layers.conv3.weight"],
                          atol=1e-5)


def test_frozen_nodes_do_not_change_during_real_training(registry, tmp_path):
    project = _template(registry)
    start = compile_graph(project.graph)
    transfer_weights(start, sibling_weights(template_path("transfer_digits")))
    # No callback given: a project with weights beside its file starts from them.
    result = train_project(project, epochs=2, run_dir=tmp_path / "run")
    after = result.model.state_dict()
    for key in ("layers.conv1.weight", "layers.conv1.bias"):
        assert torch.equal(after[key].cpu(), start.state_dict()[key])
    assert not torch.equal(after["layers.conv2.weight"].cpu(), start.state_dict()["layers.conv2.weight"])
    # The run folder is itself a source for the next transfer.
    again = compile_graph(project.graph)
    assert transfer_weights(again, tmp_path / "run").matched == ["conv1", "conv2", "head"]


def test_an_explicit_source_reports_what_it_loaded(registry, tmp_path):
    project = _template(registry)
    project.path = None
    callback = PretrainedWeights(sibling_weights(template_path("transfer_digits")))
    train_project(project, epochs=1, run_dir=tmp_path / "run", callbacks=[callback], max_batches=2)
    assert callback.report.matched == ["conv1", "conv2"] and callback.report.unused == ["source_head"]


def test_fine_tuning_beats_the_same_network_from_scratch_at_equal_epochs(registry, tmp_path):
    tuned, fresh = [], []
    for seed in range(4):
        project = _template(registry)
        project.training = {**project.training, "seed": seed}
        scratch = copy.deepcopy(project)
        scratch.path = scratch.origin = None  # no file, so no weights beside it: a fresh start
        for node in scratch.graph.nodes:
            scratch.graph.set_training(node.id, frozen=False)
        tuned.append(_accuracy(train_project(project, run_dir=tmp_path / f"t{seed}")))
        fresh.append(_accuracy(train_project(scratch, run_dir=tmp_path / f"s{seed}")))
    assert statistics.mean(tuned) > statistics.mean(fresh) + 0.05, (tuned, fresh)
    assert project.training["epochs"] <= 5  # the comparison is about a short budget


def test_a_template_opened_as_new_still_starts_from_its_shipped_weights():
    from studio.core.project import load
    from studio.resources import template_path
    from studio.training.pretrained import initial_weights

    project = load(template_path("transfer_digits"))
    project.path = None  # File > New: the template is a starting point, never overwritten
    init = initial_weights(project)
    assert init is not None
    assert str(init.source).endswith("transfer_digits.weights.safetensors")
