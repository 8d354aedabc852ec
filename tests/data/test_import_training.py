"""Imported data goes through the trainer: a lazily read image folder, with augmentation,
trains the digits template through DataLoader workers."""

from __future__ import annotations

from pathlib import Path

import torch
from PIL import Image

from studio.core.project import load
from studio.data import load_data

TEMPLATES = Path(__file__).resolve().parents[2] / "resources" / "templates"


def test_lazy_image_folder_with_augmentation_trains_the_cnn_template(tmp_path, registry):
    from studio.training import train_project

    torch.set_num_threads(1)
    g = torch.Generator().manual_seed(0)
    root = tmp_path / "bars"
    for name, axis in (("vertical", 1), ("horizontal", 0)):
        (root / name).mkdir(parents=True)
        for i in range(48):
            img = torch.rand(8, 8, generator=g) * 60
            pos = int(torch.randint(1, 7, (1,), generator=g))
            if axis:
                img[:, pos] = 255
            else:
                img[pos, :] = 255
            Image.fromarray(img.to(torch.uint8).numpy(), "L").save(root / name / f"{i}.png")
    project = load(TEMPLATES / "cnn_digits.json", registry)
    project.data = {"dataset": "image_folder", "path": str(root), "lazy": True,
                    "augment": {"flip": True, "noise": 0.02}}
    split = load_data(project.data, seed=0, val_split=0.25)
    assert split.info.extra["lazy"] and split.augment is not None
    project.graph.set_params("image", {"height": 8, "width": 8, "channels": 1})
    for node in project.graph.nodes:  # two classes instead of ten
        if node.type == "Linear" and node.params.get("out_features") == 10:
            project.graph.set_params(node.id, {"out_features": 2})
    result = train_project(project, epochs=3, batch_size=16, run_dir=tmp_path / "run")
    losses = [h["train_loss"] for h in result.history if "train_loss" in h]
    assert len(losses) == 3 and losses[-1] < losses[0]
    assert max(v for k, v in result.metrics.items() if "acc" in k) > 0.75
