"""From a project to a ready :class:`Trainer`: settings, seed, compiled snapshot, data,
device and run folder."""

from __future__ import annotations


from studio.core.errors import StudioError
from studio.core.settings import validate_training
from studio.training.runs import RunFolder, new_run_dir, runs_dir_for
from studio.training.state import seed_everything
from studio.training.trainer import Control, Trainer, TrainingError


def prepare(project, *, data=None, epochs=None, batch_size=None, device="cpu", run_dir=None, callbacks=(),
            max_batches=None, resume=None, control: Control | None = None, settings=None,
            write_files: bool = True) -> Trainer:
    """Everything before the first batch. ``resume`` is a run folder to continue: the
    graph, data and settings saved with it are used (``epochs`` may extend it where that
    stays exact), its checkpoint is read here, and its files are written on. What a
    person should know about the run (the project changed since) is in ``trainer.notes``."""
    from studio.compile.module import CompileError, compile_graph
    from studio.data.registry import data_section, load_data
    from studio.training import distributed
    from studio.training.devices import resolve_device

    notes: list[str] = []
    overrides = dict(settings or {})
    if epochs is not None:
        overrides["epochs"] = int(epochs)
    if batch_size is not None:
        overrides["batch_size"] = int(batch_size)
    resume_state = None
    if resume is not None:
        folder = RunFolder(resume)
        info = folder.read_info()
        saved = info.get("settings", {})
        _check_resume_overrides(folder, saved, overrides)
        s = validate_training({**saved, **overrides})
        project, note = _run_project(folder, info, project)
        notes += [note] if note else []
        run_dir = folder.path
        resume_state = folder.load_checkpoint("last")  # a bad file is named before anything starts
    else:
        s = validate_training({**project.training, **overrides})
    s["device"] = str(device)
    torch_device = resolve_device(device)
    dist_info = distributed.from_env()
    if dist_info is not None:
        if torch_device.type == "cuda":
            import torch

            torch_device = torch.device(f"cuda:{dist_info.local_rank}")
        distributed.init(dist_info, torch_device.type)

    seed_everything(s["seed"])
    from studio.core.analysis import analyze

    blockers = analyze(project.graph).training_blockers  # each with what to do about it
    if blockers:
        raise TrainingError("cannot train: " + "; ".join(str(p) for p in blockers))
    try:
        model = compile_graph(project.graph)
    except CompileError as exc:
        raise TrainingError(f"cannot train: {exc}") from None
    _stop_if_asked(control)  # a window closing while torch loaded: no data is read for nothing
    if data is None:
        data = load_data(data_section(project), seed=s["seed"], val_split=s["val_split"])
    _stop_if_asked(control)
    _check_fields(model, data)
    if resume is None:  # start from the weights beside the project file, if any
        from studio.training.pretrained import initial_weights

        init = initial_weights(project)
        callbacks = [init, *callbacks] if init is not None else callbacks
    if s.get("tensorboard"):
        callbacks = [*callbacks, _tensorboard(project, s["tensorboard"])]
    if run_dir is None and write_files:
        run_dir = new_run_dir(runs_dir_for(project), project.name)
    info = {"project": project.to_dict(), "project_file": str(project.path) if project.path else None,
            "dataset": data.info.name if getattr(data, "info", None) else None,
            "world_size": dist_info.world if dist_info else 1}
    trainer = Trainer(model, data, s, device=torch_device, run_dir=run_dir if write_files else None,
                      callbacks=callbacks, max_batches=max_batches, control=control, run_info=info, dist=dist_info,
                      resume_state=resume_state)
    trainer.notes += notes
    return trainer


def _tensorboard(project, folder: str):
    """The TensorBoard callback for the setting; a relative folder is the project file's."""
    from pathlib import Path

    from studio.training.tensorboard import TensorBoardLogger

    path = Path(folder).expanduser()
    if not path.is_absolute() and getattr(project, "path", None) is not None:
        path = Path(project.path).resolve().parent / path
    return TensorBoardLogger(path)


def _stop_if_asked(control: Control | None) -> None:
    """Preparing (torch, the graph, the data) takes seconds: a stop asked meanwhile (the app
    quitting) ends it between steps instead of after them all."""
    if control is not None and control.stopping:
        raise TrainingError("stopped before the first batch")


# Schedules whose every step depends on the run's planned length.
LENGTH_BOUND = ("cosine", "onecycle")


def _check_resume_overrides(folder: RunFolder, saved: dict, overrides: dict) -> None:
    """A resumed run continues exactly, so only what keeps it exact may change."""
    where = f"{folder.path}"
    if "batch_size" in overrides and overrides["batch_size"] != saved.get("batch_size"):
        raise StudioError(f"{where}: a run resumes with its own batch size ({saved.get('batch_size')}); "
                          f"start a new run for batch size {overrides['batch_size']}")
    schedule = saved.get("schedule", "none")
    if "epochs" in overrides and overrides["epochs"] != saved.get("epochs") and schedule in LENGTH_BOUND:
        raise StudioError(f"{where}: this run's {schedule} schedule was planned for {saved.get('epochs')} epochs, "
                          f"so it cannot be extended to {overrides['epochs']}; start a new run (or use a step, "
                          f"plateau or no schedule to extend runs)")


def _run_project(folder: RunFolder, info: dict, project):
    """The project as it was when the run started (saved in run.json): a resumed run trains
    exactly that graph and data, whatever the project file holds now."""
    snapshot = info.get("project")
    if not isinstance(snapshot, dict):
        return project, None
    saved = project.snapshot(snapshot, name=str(folder.info_path))  # data paths and runs stay where they were
    now = project.to_dict()
    changed = (["graph"] if any(snapshot.get(k) != now.get(k) for k in ("nodes", "edges")) else []) + (
        ["data"] if snapshot.get("data") != now.get("data") else [])
    note = None
    if changed:
        note = (f"the project's {' and '.join(changed)} changed since this run started; it resumes with "
                f"the run's own copy (in {folder.info_path})")
    return saved, note


def train_project(project, *, data=None, epochs=None, batch_size=None, device="cpu", run_dir=None, callbacks=(),
                  max_batches=None, resume=None, control=None, settings=None):
    """Train ``project`` and return a :class:`RunResult`; failures raise
    :class:`TrainingError` (its ``result`` holds the history so far)."""
    trainer = prepare(project, data=data, epochs=epochs, batch_size=batch_size, device=device, run_dir=run_dir,
                      callbacks=callbacks, max_batches=max_batches, resume=resume, control=control,
                      settings=settings)
    return trainer.fit(resume=resume is not None)


def _check_fields(model, data) -> None:
    sample = data.train
    names = set(sample.fields) if hasattr(sample, "fields") else set(sample[0]) if len(sample) else set()
    needed = {f: f"Input {n!r}" for n, f in zip(model.input_names, model.input_fields)}
    for o in model.outputs:
        if o.loss is not None:
            needed.setdefault(o.loss.target, f"loss {o.node!r}")
    missing = [f"{who} reads field {f!r}" for f, who in needed.items() if f not in names]
    if missing:
        raise StudioError(f"the dataset has no such field: {'; '.join(missing)} "
                          f"(the dataset has {', '.join(sorted(names)) or 'no fields'})")
