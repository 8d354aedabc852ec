"""A training run's model, ready to evaluate or predict with: the project's graph with
the weights of the run's best (or last) checkpoint, put in inference mode."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from studio.core.errors import StudioError
from studio.training.runs import RunError, RunFolder


class EvaluationError(StudioError):
    """A run, split or input that cannot be evaluated; the message names the file."""


class RunMismatch(EvaluationError):
    """The run's weights belong to another graph than the project's: a problem with the
    work (exit 1), not unreadable input."""


class NotEvaluable(EvaluationError):
    """The graph has no loss that says what it predicts (exit 1)."""


CHECKPOINTS = ("best", "last")


@dataclass
class LoadedRun:
    folder: RunFolder
    model: Any  # the compiled GraphModule, in eval mode, on the CPU
    settings: dict  # the run's training settings (seed and validation split among them)
    checkpoint: str  # "best", "last" or "weights": what the weights came from
    info: dict  # run.json

    @property
    def name(self) -> str:
        return self.folder.path.name


def run_folder(weights: str | Path) -> tuple[RunFolder, str | None]:
    """The run folder ``weights`` names: the folder itself, or a checkpoint or the weights
    file inside it (then also which one)."""
    path = Path(weights).expanduser()
    if not path.exists():
        raise EvaluationError(f"{path}: no such run folder")
    if path.is_file():
        if path.suffix == ".ckpt" and path.parent.name == "checkpoints":
            return RunFolder(path.parent.parent), path.stem
        if path.name == "weights.safetensors":
            return RunFolder(path.parent), "weights"
        raise EvaluationError(f"{path}: not a run folder, nor a checkpoint or weights file inside one")
    return RunFolder(path), None


def graph_changes(project, info: dict) -> list[str]:
    """What of the graph differs between ``project`` now and the run's saved copy."""
    snapshot = info.get("project")
    if not isinstance(snapshot, dict):
        return []
    now = project.to_dict()
    return [k for k in ("nodes", "edges") if snapshot.get(k) != now.get(k)]


def load_run(project, weights: str | Path, checkpoint: str | None = None) -> LoadedRun:
    """The model of ``project`` with the weights of the run ``weights`` (a run folder, or a
    file in one). ``checkpoint``: "best" (default; the last when the run kept no best),
    "last" or "weights" (the final weights). A run trained on another graph than the
    project holds now is refused, naming what changed."""
    from studio.compile.module import CompileError, compile_graph

    folder, named = run_folder(weights)
    try:
        info = folder.read_info()
    except RunError as exc:
        raise EvaluationError(str(exc)) from None
    changed = graph_changes(project, info)
    if changed:
        where = project.path or project.name
        raise RunMismatch(f"{folder.path}: this run was trained on another graph than {where} holds now "
                              f"(its {' and '.join(changed)} changed since); train again, or open the "
                              f"project as the run saved it ({folder.info_path})")
    kind = checkpoint or named or "best"
    if kind == "best" and not folder.checkpoint_path("best").exists():
        kind = "last"
    try:
        model = compile_graph(project.graph)
    except CompileError as exc:
        raise EvaluationError(f"{project.path or project.name}: {exc}") from None
    state = _weights(folder, kind)
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()
        raise RunMismatch(f"{folder.path}: the {kind} weights do not fit this graph "
                              f"({first[1].strip() if len(first) > 1 else first[0]})") from None
    model.eval()
    return LoadedRun(folder, model, dict(info.get("settings") or {}), kind, info)


def _weights(folder: RunFolder, kind: str) -> dict:
    if kind == "weights":
        path = folder.weights_path
        if not path.exists():
            raise EvaluationError(f"{path}: the run has no final weights (it did not finish)")
        from studio.core.errors import StudioError
        from studio.export.weights import read_state_dict

        try:
            return read_state_dict(path)  # checked against the checksum the run recorded
        except StudioError as exc:
            raise EvaluationError(str(exc)) from None
    if kind not in CHECKPOINTS:
        raise EvaluationError(f"unknown checkpoint {kind!r}; use best, last or weights")
    if not folder.checkpoint_path(kind).exists():
        raise EvaluationError(f"{folder.path}: the run kept no checkpoint yet (no {kind}.ckpt)")
    try:
        state = folder.load_checkpoint(kind)
    except RunError as exc:
        raise EvaluationError(str(exc)) from None
    if not isinstance(state, dict) or not isinstance(state.get("model"), dict):
        raise EvaluationError(f"{folder.checkpoint_path(kind)}: holds no model weights")
    return state["model"]
