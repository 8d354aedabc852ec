import pytest
import torch

from studio.training import TrainingCallback, prepare, train_project


class LRs(TrainingCallback):
    def __init__(self):
        self.per_batch = []

    def on_train_batch_end(self, trainer, batch, loss, size):
        self.per_batch.append(trainer.optimizer.param_groups[0]["lr"])


@pytest.mark.parametrize("name,cls", [("sgd", torch.optim.SGD), ("adam", torch.optim.Adam),
                                      ("adamw", torch.optim.AdamW), ("rmsprop", torch.optim.RMSprop)])
def test_each_optimizer_trains(mlp_project, data, name, cls):
    mlp_project.training.update(optimizer=name, learning_rate=0.01)
    trainer = prepare(mlp_project, data=data, epochs=2)
    result = trainer.fit()
    assert type(trainer.optimizer) is cls
    assert result.history[-1]["train_loss"] < result.history[0]["train_loss"]


def test_step_schedule_halves_each_epoch(mlp_project, data):
    mlp_project.training.update(schedule="step", step_size=1, gamma=0.5, learning_rate=0.01)
    result = train_project(mlp_project, data=data, epochs=3)
    assert [r["lr"] for r in result.history] == pytest.approx([0.01, 0.005, 0.0025])


def test_cosine_schedule_decays_towards_zero(mlp_project, data):
    mlp_project.training.update(schedule="cosine", learning_rate=0.01)
    lrs = [r["lr"] for r in train_project(mlp_project, data=data, epochs=4).history]
    assert lrs[0] == pytest.approx(0.01) and all(a > b for a, b in zip(lrs, lrs[1:]))


def test_onecycle_rises_then_falls_within_the_run(mlp_project, data):
    mlp_project.training.update(schedule="onecycle", learning_rate=0.01)
    rec = LRs()
    train_project(mlp_project, data=data, epochs=3, callbacks=[rec])
    peak = max(range(len(rec.per_batch)), key=rec.per_batch.__getitem__)
    assert 0 < peak < len(rec.per_batch) - 1
    assert rec.per_batch[0] < 0.01 and rec.per_batch[-1] < rec.per_batch[peak] / 10


def test_plateau_cuts_the_rate_when_validation_stalls(mlp_project, data):
    data.val.fields["y"] = (data.val.fields["y"] + 1) % 3
    mlp_project.training.update(schedule="plateau", step_size=1, gamma=0.5, learning_rate=0.01)
    lrs = [r["lr"] for r in train_project(mlp_project, data=data, epochs=5).history]
    assert lrs[-1] < 0.01


def test_frozen_nodes_do_not_change_and_frozen_batchnorm_keeps_its_statistics(mlp_project, data):
    g = mlp_project.graph
    g.node("fc1").frozen = True
    g.node("bn").frozen = True
    trainer = prepare(mlp_project, data=data, epochs=2)
    before = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    trainer.fit()
    after = trainer.model.state_dict()
    for key in ("layers.fc1.weight", "layers.bn.weight", "layers.bn.running_mean", "layers.bn.running_var"):
        assert torch.equal(before[key], after[key]), key
    assert not torch.equal(before["layers.fc2.weight"], after["layers.fc2.weight"])


def test_lr_scale_scales_that_node_s_update(mlp_project, data):
    mlp_project.training.update(optimizer="sgd", momentum=0.0, learning_rate=0.1)

    def first_step_delta(scale):
        mlp_project.graph.node("fc1").lr_scale = scale
        trainer = prepare(mlp_project, data=data, epochs=1, max_batches=1)
        w0 = trainer.model.layers["fc1"].weight.detach().clone()
        trainer.fit()
        return trainer.model.layers["fc1"].weight.detach() - w0

    full, tenth = first_step_delta(1.0), first_step_delta(0.1)
    assert full.abs().sum() > 0
    assert torch.allclose(tenth, full * 0.1, atol=1e-7)


def test_grad_clip_bounds_the_step(mlp_project, data):
    mlp_project.training.update(optimizer="sgd", momentum=0.0, learning_rate=1.0, grad_clip=1e-3)
    trainer = prepare(mlp_project, data=data, epochs=1, max_batches=1)
    w0 = torch.cat([p.detach().flatten().clone() for p in trainer.model.parameters()])
    trainer.fit()
    w1 = torch.cat([p.detach().flatten() for p in trainer.model.parameters()])
    assert (w1 - w0).norm() <= 1e-3 * 1.0001


def test_training_with_every_layer_frozen_is_refused_with_the_fix(mlp_project, data):
    from studio.training import TrainingError

    for node in mlp_project.graph:
        node.frozen = True
    with pytest.raises(TrainingError, match="frozen.*unfreeze"):
        prepare(mlp_project, data=data, epochs=1)


def test_a_stop_asked_while_preparing_ends_it_before_the_data_is_read(mlp_project, monkeypatch):
    from studio.data import registry
    from studio.training import Control, TrainingError

    def no_reading(*a, **k):
        raise AssertionError("the data was read after the stop")

    monkeypatch.setattr(registry, "load_data", no_reading)
    control = Control()
    control.request_stop()  # the app is quitting
    with pytest.raises(TrainingError, match="stopped before the first batch"):
        prepare(mlp_project, epochs=1, control=control)
