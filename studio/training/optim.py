"""Optimizer and learning-rate schedule from the project's training settings.

Frozen nodes' parameters get no gradient and stay out of the optimizer; nodes with an
``lr_scale`` get their own parameter group, so one-cycle and plateau schedules scale
every group together.
"""

from __future__ import annotations

import torch
from torch import nn


def freeze(model) -> None:
    """Turn off gradients of the frozen nodes' parameters."""
    for node_id in model.frozen_nodes:
        for p in model.layers[node_id].parameters():
            p.requires_grad_(False)


def param_groups(model, lr: float) -> list[dict]:
    scaled: dict[float, list] = {}
    plain = []
    frozen = set(model.frozen_nodes)
    for node_id, layer in model.layers.items():
        if node_id in frozen:
            continue
        params = [p for p in layer.parameters() if p.requires_grad]
        scale = model.lr_scales.get(node_id, 1.0)
        (plain if scale == 1.0 else scaled.setdefault(scale, [])).extend(params)
    groups = [{"params": plain, "lr": lr}] if plain else []
    groups += [{"params": ps, "lr": lr * s} for s, ps in sorted(scaled.items()) if ps]
    # Parameters of loss modules (rare) train at the base rate.
    extra = [p for p in model.losses.parameters() if p.requires_grad]
    if extra:
        groups.append({"params": extra, "lr": lr})
    return groups


def build_optimizer(model: nn.Module, s: dict) -> torch.optim.Optimizer:
    groups = param_groups(model, s["learning_rate"])
    if not groups:
        raise ValueError("nothing to train: every layer with weights is frozen")
    name, lr, wd = s["optimizer"], s["learning_rate"], s["weight_decay"]
    # One fused kernel per step instead of a few small ops per tensor: the per-tensor
    # Python loop of the default CPU path is a visible share of a small model's step.
    fast = _fast_kwargs(groups)
    if name == "sgd":
        return torch.optim.SGD(groups, lr=lr, momentum=s["momentum"], weight_decay=wd, **fast)
    if name == "adam":
        return torch.optim.Adam(groups, lr=lr, weight_decay=wd, **fast)
    if name == "adamw":
        return torch.optim.AdamW(groups, lr=lr, weight_decay=wd, **fast)
    if name == "rmsprop":
        return torch.optim.RMSprop(groups, lr=lr, momentum=s["momentum"], weight_decay=wd,
                                   foreach=fast.get("foreach", bool(fast)))
    raise ValueError(f"unknown optimizer {name!r}")


def _fast_kwargs(groups) -> dict:
    params = [p for g in groups for p in g["params"]]
    devices = {p.device.type for p in params}
    if all(p.is_floating_point() and not p.is_sparse for p in params) and devices <= {"cpu", "cuda", "mps"}:
        return {"fused": True}
    return {"foreach": True} if devices <= {"cpu", "cuda"} else {}


class Schedule:
    """The learning-rate schedule and when it steps: per batch (one-cycle), per epoch
    (step, cosine) or on the validation loss (plateau)."""

    def __init__(self, optimizer, s: dict, steps_per_epoch: int) -> None:
        name = s["schedule"]
        self.name = name
        self.per_batch = name == "onecycle"
        self.scheduler = None
        if name == "step":
            self.scheduler = torch.optim.lr_scheduler.StepLR(optimizer, s["step_size"], s["gamma"])
        elif name == "cosine":
            self.scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, max(1, s["epochs"]))
        elif name == "onecycle":
            self.scheduler = torch.optim.lr_scheduler.OneCycleLR(
                optimizer, max_lr=[g["lr"] for g in optimizer.param_groups],
                total_steps=max(1, s["epochs"] * steps_per_epoch) + 1)
        elif name == "plateau":
            self.scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
                optimizer, factor=s["gamma"] if s["gamma"] > 0 else 0.1, patience=s["step_size"])
        self.step_batch = self.scheduler.step if self.per_batch else None

    def step_epoch(self, monitor: float) -> None:
        if self.scheduler is None or self.per_batch:
            return
        if self.name == "plateau":
            self.scheduler.step(monitor)
        else:
            self.scheduler.step()

    def state_dict(self) -> dict:
        return self.scheduler.state_dict() if self.scheduler is not None else {}

    def load_state_dict(self, state: dict) -> None:
        if self.scheduler is not None and state:
            self.scheduler.load_state_dict(state)
