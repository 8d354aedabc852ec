"""The transfer-learning template, measured: fine-tuned from the shipped weights vs. the
same network from scratch, at equal epochs, on the few-shot target set (digits 5-9).

    .venv/bin/python benchmarks/export_transfer_template.py            # measure
    .venv/bin/python benchmarks/export_transfer_template.py --write    # re-make the weights

``--write`` pretrains the network with the app's own trainer on digits 0-4 and saves
``resources/templates/transfer_digits.weights.safetensors``.
"""

from __future__ import annotations

import argparse
import copy
import tempfile
import time

import torch

from studio.core.project import load
from studio.export.weights import save_weights
from studio.resources import template_path
from studio.training import train_project

TEMPLATE = "transfer_digits"
SOURCE_CLASSES = [0, 1, 2, 3, 4]


def source_project():
    """The template's network on the source task, with its own head (``source_head``)."""
    project = load(template_path(TEMPLATE))
    g = project.graph
    g.rename_node("head", "source_head")
    project.data = {"dataset": "digits", "classes": SOURCE_CLASSES}
    project.training = {**project.training, "epochs": 15, "batch_size": 16, "learning_rate": 0.01}
    return project


def pretrain(out) -> float:
    project = source_project()
    project.path = project.origin = None  # from scratch, not from the weights being re-made
    for node in project.graph.nodes:
        project.graph.set_training(node.id, frozen=False, lr_scale=1.0)
    with tempfile.TemporaryDirectory() as tmp:
        result = train_project(project, run_dir=tmp)
    save_weights(result.model.state_dict(), out)
    return accuracy(result)


def accuracy(result) -> float:
    return max(v for k, v in result.metrics.items() if "accuracy" in k)


def compare(epochs: int | None = None, seed: int = 0) -> tuple[float, float]:
    """Validation accuracy after fine-tuning and from scratch, same epochs and data."""
    project = load(template_path(TEMPLATE))
    project.training = {**project.training, "seed": seed}
    scratch = copy.deepcopy(project)
    scratch.path = scratch.origin = None  # no file and no template behind it, so no weights: a fresh start
    for node in scratch.graph.nodes:
        scratch.graph.set_training(node.id, frozen=False, lr_scale=1.0)
    with tempfile.TemporaryDirectory() as tmp:
        tuned = train_project(project, epochs=epochs, run_dir=f"{tmp}/tuned")  # starts from the weights beside it
        fresh = train_project(scratch, epochs=epochs, run_dir=f"{tmp}/scratch")
    return accuracy(tuned), accuracy(fresh)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write", action="store_true", help="pretrain and write the template's weights")
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.write:
        out = template_path(TEMPLATE).with_name(f"{TEMPLATE}.weights.safetensors")
        t = time.perf_counter()
        acc = pretrain(out)
        print(f"pretrained on digits {SOURCE_CLASSES}: val accuracy {acc:.3f} in {time.perf_counter() - t:.1f} s "
              f"-> {out} ({out.stat().st_size / 1024:.1f} KB)")
    print(f"validation accuracy after {load(template_path(TEMPLATE)).training['epochs']} epochs")
    print(f"{'seed':>4}  {'fine-tuned':>10}  {'from scratch':>12}")
    rows = [compare(seed=seed) for seed in range(5)]
    for seed, (tuned, fresh) in enumerate(rows):
        print(f"{seed:>4}  {tuned:>10.3f}  {fresh:>12.3f}")
    print(f"mean  {sum(r[0] for r in rows) / len(rows):>10.3f}  {sum(r[1] for r in rows) / len(rows):>12.3f}")


if __name__ == "__main__":
    main()
