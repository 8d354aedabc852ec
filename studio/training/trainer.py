"""The training loop: plain numbers out to callbacks, stop and pause as flags.

Per batch the loop does what a hand-written PyTorch loop does (index, forward, loss,
backward, step) plus one ``loss.item()`` for the finite check and the callbacks; every
file write, metric and message happens at epoch boundaries.

What a run keeps is done by callbacks the trainer adds itself (as Lightning's does):
:class:`~studio.training.runs.RunLogger` writes run.json and metrics.jsonl,
:class:`~studio.training.checkpoint.ModelCheckpoint` the checkpoints, and
:class:`~studio.training.early_stopping.EarlyStopping` stops a run that no longer
improves. Each callback's ``state_dict`` travels in the checkpoint, so a resumed run
goes on exactly as the uninterrupted one.
"""

from __future__ import annotations

import contextlib
import math
import os

import torch

from studio.training import progress
from studio.training.batches import Batches
from studio.training.callbacks import TrainingCallback, bound_hooks, monitored
from studio.training.checkpoint import ModelCheckpoint
from studio.training.early_stopping import EarlyStopping
from studio.training.metrics import create_metric
from studio.training.optim import Schedule, build_optimizer, freeze
from studio.training.outcome import Control, RunResult, RunStatus, TrainingError, _NonFinite, describe_error
from studio.training.runs import BackgroundWriter, RunFolder, RunLogger, write_failure
from studio.training.state import capture_rng, restore_rng

__all__ = ["Control", "RunResult", "RunStatus", "Trainer", "TrainingError", "describe_error"]


class Trainer:
    def __init__(self, model, split, settings: dict, *, device="cpu", run_dir=None, callbacks=(),
                 max_batches: int | None = None, control: Control | None = None, run_info: dict | None = None,
                 dist=None, resume_state: dict | None = None) -> None:
        self.model = model
        self.split = split
        self.settings = dict(settings)
        self.device = torch.device(device)
        self.run = RunFolder(run_dir) if run_dir is not None else None
        self.max_batches = max_batches
        self.control = control or Control()
        self.dist = dist  # studio.training.distributed.DistInfo or None
        self.rank = dist.rank if dist else 0
        self.epoch = 0
        self.position: tuple[int, int] | None = None  # (epoch, batches done in it) once training
        self.history: list[dict] = []
        self.status = RunStatus.RUNNING
        self.message = ""
        self.resumed = False
        self.interrupted: tuple[int, tuple] | None = None  # (batch, partial sums) of a stop mid-epoch
        self._stop_after_epoch: tuple[RunStatus, str] | None = None
        # The run's own callbacks around the caller's: the logger first (its folder is
        # ready for theirs), early stopping and the checkpoint last (the checkpoint holds
        # every callback's state after the epoch).
        patience = self.settings.get("early_stopping") or 0
        self.callbacks = [*([RunLogger(run_info)] if self.writes_files else []), *callbacks,
                          *([EarlyStopping(patience)] if patience else []),
                          *([ModelCheckpoint()] if self.writes_files else [])]
        keys = [cb.state_key for cb in self.callbacks if _stateful(cb)]
        if len(keys) != len(set(keys)):
            raise ValueError(f"two callbacks keep their state under one key: {sorted(keys)}")
        self.hooks = bound_hooks(self.callbacks)
        self.resume_state = resume_state  # a checkpoint read before fit (prepare does), or None
        self.paused_seconds = 0.0  # within the current epoch: not training time
        self.writer: BackgroundWriter | None = None
        self.notes: list[str] = []  # for the person who started the run (studio.training.project)

    # ---- control ----------------------------------------------------------------------
    def request_stop(self) -> None:
        self.control.request_stop()

    def pause(self) -> None:
        self.control.pause()

    def resume(self) -> None:
        self.control.resume()

    @property
    def writes_files(self) -> bool:
        return self.run is not None and self.rank == 0

    # ---- set-up -----------------------------------------------------------------------
    def _setup(self) -> None:
        s = self.settings
        threads = s.get("threads") or max(1, (os.cpu_count() or 1) - 1)
        if torch.get_num_threads() != threads:
            torch.set_num_threads(threads)
        model = self.model.to(self.device)
        freeze(model)
        self.amp = bool(s.get("mixed_precision")) and self.device.type == "cuda"
        self.channels_last = self._choose_channels_last(model)
        if self.channels_last:
            model.to(memory_format=torch.channels_last)
        self.net = model
        if self.dist is not None and self.dist.world > 1:
            from torch.nn.parallel import DistributedDataParallel

            ids = [self.device.index] if self.device.type == "cuda" else None
            self.net = DistributedDataParallel(model, device_ids=ids)
        self.optimizer = build_optimizer(model, s)
        rank, world = (self.dist.rank, self.dist.world) if self.dist else (0, 1)
        fields = sorted(set(model.input_fields) | {o.loss.target for o in model.outputs if o.loss is not None})
        self.train_batches = Batches(self.split.train, fields, s["batch_size"], self.device, train=True,
                                     rank=rank, world=world)
        # Validation keeps no activations for backward, so on an accelerator twice the batch
        # fits and runs faster. Not on CPU: past the cache size a larger batch runs slower
        # per sample (cnn_digits: 64 a batch 4.9 ms, 128 a batch 8.6 ms for the same 360).
        val_batch = s["batch_size"] * (1 if self.device.type == "cpu" else 2)
        self.val_batches = Batches(self.split.val, fields, val_batch, self.device, train=False)
        steps = min(self.train_batches.num_batches, self.max_batches or 1 << 60)
        self.schedule = Schedule(self.optimizer, s, steps)
        self.scaler = torch.amp.GradScaler("cuda") if self.amp else None
        # (output index, loss module, target field, weight, metric or None, metric key)
        # Each loss's target field, weight and metric come from its declaration (LossInfo).
        losses = [(i, o) for i, o in enumerate(model.outputs) if o.loss is not None]
        scored = [o for _, o in losses if o.loss.metric not in ("none", "")]
        self.loss_plan = []
        for i, o in losses:
            name = o.loss.metric
            metric = create_metric(name, o.loss.metric_options(o.params))
            key = name if len(scored) == 1 else f"{o.node}.{name}"
            module = model.losses[o.node]
            if o.loss.reduction == "sum":  # the trainer works with means over the batch
                module = _BatchMean(module)
            self.loss_plan.append((i, module, o.loss.target, o.loss.weight, metric, key))
        if not self.loss_plan:
            raise TrainingError("the graph has no loss node: connect an output to a loss to train it")
        self._frozen_norms = [m for n in model.frozen_nodes for m in model.layers[n].modules()
                              if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]

    def _choose_channels_last(self, model) -> bool:
        """Image tensors in channels_last (NHWC) layout: convolutions on CPU run 1.2-1.7x
        faster in it (``benchmarks/train_overhead.py``), as do CUDA's half-precision ones.
        ``auto`` takes it for a network with 2-D convolutions on those devices, after a
        forward pass on zeros shows every layer accepts it (a custom layer may ``view``
        its input). It is the same computation in another layout: sums round differently,
        and dropout on image tensors draws its mask in another order."""
        choice = self.settings.get("memory_format", "auto")
        if choice != "auto":
            return choice == "channels_last"
        if not (self.device.type == "cpu" or self.amp):
            return False
        if not any(isinstance(m, (torch.nn.Conv2d, torch.nn.ConvTranspose2d)) for m in model.modules()):
            return False
        return _accepts_channels_last(model, self.device)

    def call_hook(self, hook: str, *args) -> None:
        for fn in self.hooks[hook]:
            fn(self, *args)

    def stop_after_epoch(self, status: RunStatus, message: str) -> None:
        """End the run once this epoch's hooks are done (from ``on_train_epoch_end``)."""
        self._stop_after_epoch = (status, message)

    def _write_failed(self, exc: BaseException) -> None:
        """A run file could not be written (disk full): stop now, not after every epoch."""
        self.write_error = exc
        self.control.request_stop()

    def _autocast(self):
        return torch.autocast("cuda", dtype=torch.float16) if self.amp else contextlib.nullcontext()

    # ---- the run ----------------------------------------------------------------------
    def fit(self, resume: bool = False) -> RunResult:
        self.resumed = resume
        self.write_error: BaseException | None = None
        self.writer = BackgroundWriter(on_error=self._write_failed) if self.writes_files else None
        try:
            return self._fit(resume)
        finally:
            if self.writer is not None:
                self.writer.close()
            if getattr(self, "channels_last", False):  # hand back an ordinary module
                self.model.to(memory_format=torch.contiguous_format)

    def _fit(self, resume: bool) -> RunResult:
        s = self.settings
        start_batch, partial = 0, (0.0, 0, 0.0)
        status, message = RunStatus.COMPLETED, ""
        try:
            self._setup()
            if resume:
                state = self.resume_state if self.resume_state is not None else self.run.load_checkpoint("last")
                self.resume_state = None
                start_batch, partial = self._restore(state)
            self.call_hook("on_fit_start")
            self.call_hook("on_train_start")
            while self.epoch < s["epochs"]:
                self.interrupted = self._train_epoch(start_batch, partial)
                start_batch, partial = 0, (0.0, 0, 0.0)
                if self.interrupted is not None:
                    status, message = RunStatus.STOPPED, f"stopped by request in epoch {self.epoch + 1}"
                    break
                if self._stop_after_epoch is not None:
                    status, message = self._stop_after_epoch
                    break
                if self.control.stopping:
                    status, message = RunStatus.STOPPED, f"stopped by request after epoch {self.epoch}"
                    break
            if self.write_error is not None:
                raise write_failure(self.write_error, self.run.path, self.epoch)
            self.status, self.message = status, message
            self.call_hook("on_train_end")
            result = self._result()
            self.call_hook("on_fit_end", result)
            return result
        except BaseException as exc:
            result = self._failure(exc)
            for fn in self.hooks["on_exception"]:  # each one runs, whatever another raised
                with contextlib.suppress(Exception):
                    fn(self, exc)
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
            raise TrainingError(result.message, result) from exc

    def _train_epoch(self, start: int, partial: tuple):
        epoch, s = self.epoch, self.settings
        self.position = (epoch, start)
        self.call_hook("on_train_epoch_start", epoch)
        clock = progress.clock
        t0 = clock()
        self.paused_seconds = 0.0
        loss_sum, count, spent = partial
        self.model.train()
        for m in self._frozen_norms:
            m.eval()
        net, opt, control = self.net, self.optimizer, self.control
        fields = self.model.input_fields
        plan = self.loss_plan
        augment = getattr(self.split, "augment", None)
        clip = s.get("grad_clip") or 0.0
        step_batch = self.schedule.step_batch
        scaler = self.scaler
        hook_start, hook_end = self.hooks["on_train_batch_start"], self.hooks["on_train_batch_end"]
        order = self.train_batches.order(s["seed"], epoch)
        b = start
        for batch in self.train_batches.epoch(order, start, self.max_batches):
            if control.paused:
                t_wait = clock()
                control.wait_while_paused()
                waited = clock() - t_wait
                t0 += waited  # a pause is not training time: samples/s and seconds leave it out
                self.paused_seconds += waited
            if control.stopping:
                return b, (loss_sum, count, spent + clock() - t0)
            for fn in hook_start:
                fn(self, b)
            if augment is not None:
                batch = augment(batch)
            with self._autocast():
                outs = net(*[batch[f] for f in fields])
                if not isinstance(outs, tuple):
                    outs = (outs,)
                loss = None
                for i, module, target, weight, _, _ in plan:
                    term = module(outs[i], batch[target])
                    if weight != 1.0:
                        term = term * weight
                    loss = term if loss is None else loss + term
            value = loss.item()
            if not math.isfinite(value):
                raise _NonFinite(f"the loss became {value} in epoch {epoch + 1}, batch {b + 1}")
            opt.zero_grad(set_to_none=True)
            if scaler is not None:
                scaler.scale(loss).backward()
                if clip:
                    scaler.unscale_(opt)
                    torch.nn.utils.clip_grad_norm_(self.model.parameters(), clip)
                scaler.step(opt)
                scaler.update()
            else:
                loss.backward()
                if clip:
                    torch.nn.utils.clip_grad_norm_(self.model.parameters(), clip)
                opt.step()
            if step_batch is not None:
                step_batch()
            size = int(outs[0].shape[0])
            loss_sum += value * size
            count += size
            b += 1
            self.position = (epoch, b)
            for fn in hook_end:
                fn(self, b - 1, value, size)
        train_seconds = spent + clock() - t0
        loss_sum, count = self._reduce(loss_sum, count)
        self._sync_buffers()
        self._end_epoch(loss_sum / max(count, 1), count, train_seconds, clock() - t0 + spent)
        return None

    def _reduce(self, loss_sum: float, count: int):
        if self.dist is None or self.dist.world <= 1:
            return loss_sum, count
        import torch.distributed as dist

        t = torch.tensor([loss_sum, float(count)], dtype=torch.float64)
        dist.all_reduce(t)
        return float(t[0]), int(t[1])

    def _sync_buffers(self) -> None:
        """Each rank updates its own BatchNorm statistics; validate (and save) rank 0's
        everywhere, so every rank scores, schedules and stops alike."""
        if self.dist is None or self.dist.world <= 1:
            return
        import torch.distributed as dist

        for buf in self.model.buffers():
            dist.broadcast(buf, 0)

    def _end_epoch(self, train_loss: float, count: int, train_seconds: float, seconds: float) -> None:
        t_val = progress.clock()
        val_loss, metrics = self._validate()
        seconds += progress.clock() - t_val
        # The epoch's last step can break the weights after its loss was checked: never
        # save such weights as the last good checkpoint.
        if val_loss is not None and not math.isfinite(val_loss):
            raise _NonFinite(f"the validation loss became {val_loss} after epoch {self.epoch + 1}")
        if val_loss is None and not all(bool(torch.isfinite(p).all()) for p in self.model.parameters()):
            raise _NonFinite(f"the weights became non-finite in epoch {self.epoch + 1}")
        record = {
            "epoch": self.epoch + 1,
            "train_loss": train_loss,
            "val_loss": val_loss,
            "metrics": metrics,
            "samples_per_s": count / train_seconds if train_seconds > 0 else None,
            "seconds": seconds,
            "lr": self.optimizer.param_groups[0]["lr"],
            "samples": count,
        }
        self.history.append(record)
        self.epoch += 1
        self.schedule.step_epoch(monitored(record))
        self.call_hook("on_train_epoch_end", record)

    def _validate(self):
        self.call_hook("on_validation_start")
        model = self.model
        val = self.val_batches
        if val.n == 0:
            logs = {"val_loss": None, "metrics": {}}
            self.call_hook("on_validation_end", logs)
            return None, {}
        for *_, metric, _ in self.loss_plan:
            if metric is not None:
                metric.reset()
        was_training = model.training
        model.eval()
        total, count = None, 0
        with torch.inference_mode(), self._autocast():
            for batch in val.epoch(val.order(0, 0), 0, self.max_batches):
                outs = model(*[batch[f] for f in model.input_fields])
                if not isinstance(outs, tuple):
                    outs = (outs,)
                size = int(outs[0].shape[0])
                for i, module, target, weight, metric, _ in self.loss_plan:
                    term = module(outs[i], batch[target]).float() * (weight * size)
                    total = term if total is None else total + term
                    if metric is not None:
                        metric.update(outs[i], batch[target], model=model, batch=batch)
                count += size
        model.train(was_training)
        val_loss = float(total) / max(count, 1) if total is not None else None
        metrics = {key: _finite(metric.compute()) for *_, metric, key in self.loss_plan if metric is not None}
        self.call_hook("on_validation_end", {"val_loss": val_loss, "metrics": metrics})
        return val_loss, metrics

    # ---- checkpoints ------------------------------------------------------------------
    def checkpoint_state(self, batch: int, partial: tuple) -> dict:
        """Everything a resumed run needs to go on exactly: plain tensors, numbers and
        lists, so the file loads with ``weights_only=True``."""
        return {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.schedule.state_dict(),
            "scaler": self.scaler.state_dict() if self.scaler is not None else {},
            "epoch": self.epoch,
            "batch": batch,
            "partial": list(partial),
            "rng": capture_rng(),
            "history": self.history,
            "settings": self.settings,
            "callbacks": {cb.state_key: cb.state_dict() for cb in self.callbacks if _stateful(cb)},
        }

    def _restore(self, state: dict):
        try:
            self.model.load_state_dict(state["model"])
        except RuntimeError as exc:
            raise TrainingError(f"{self.run.path}: the checkpoint does not fit this graph "
                                f"(was the graph edited since the run?): {exc}") from None
        self.optimizer.load_state_dict(state["optimizer"])
        self.schedule.load_state_dict(state["scheduler"])
        if self.scaler is not None and state.get("scaler"):
            self.scaler.load_state_dict(state["scaler"])
        self.epoch = int(state["epoch"])
        self.history = list(state["history"])
        saved = state["callbacks"] if "callbacks" in state else _older_callback_state(state)
        for cb in self.callbacks:
            if _stateful(cb) and cb.state_key in saved:
                cb.load_state_dict(saved[cb.state_key])
        restore_rng(state["rng"])
        loss_sum, count, spent = state["partial"]
        return int(state["batch"]), (float(loss_sum), int(count), float(spent))

    def _result(self) -> RunResult:
        metrics = dict(self.history[-1]["metrics"]) if self.history else {}
        if self.history and self.history[-1]["val_loss"] is not None:
            metrics.setdefault("val_loss", self.history[-1]["val_loss"])
        return RunResult(self.history, metrics, self.run.path if self.run else None, self.model,
                         self.status, self.message, _best_epoch(self.history), self.settings)

    def _failure(self, exc: BaseException) -> RunResult:
        self.status, self.message = RunStatus.ERROR, describe_error(exc, self)
        if isinstance(exc, _NonFinite):
            self.status = RunStatus.NAN
            kept = (f"; the last good checkpoint (epoch {self.epoch}) is kept in {self.run.checkpoint_path('last')}"
                    if self.writes_files and self.epoch > 0 else "")
            self.message = f"{exc}{kept}. Try a lower learning rate or gradient clipping."
        return self._result()


class _BatchMean(torch.nn.Module):
    """A loss declared with ``reduction="sum"``, divided by the batch size."""

    def __init__(self, loss: torch.nn.Module) -> None:
        super().__init__()
        self.loss = loss

    def forward(self, prediction, target):
        return self.loss(prediction, target) / prediction.shape[0]


def _accepts_channels_last(model, device) -> bool:
    """Whether ``model`` in channels_last layout runs a batch of zeros (eval mode, no
    gradient: no statistic, weight or random state changes). It is left in the layout
    that worked."""
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            xs = [x.to(device) for x in model.example_inputs(2, zeros=True)]
            xs = [x.contiguous(memory_format=torch.channels_last) if x.dim() == 4 else x for x in xs]
            model.to(memory_format=torch.channels_last)
            model(*xs)
        return True
    except Exception:
        model.to(memory_format=torch.contiguous_format)
        return False
    finally:
        model.train(was_training)


def _best_epoch(history: list[dict]) -> int | None:
    """The first epoch with the lowest monitored loss (what best.ckpt holds)."""
    if not history:
        return None
    return min(history, key=monitored)["epoch"]


def _older_callback_state(state: dict) -> dict:
    """Checkpoints written before callbacks kept their own state held it at the top."""
    if "best" not in state:
        return {}
    return {ModelCheckpoint.state_key: {"best": state["best"], "best_epoch": state["best_epoch"]},
            EarlyStopping.state_key: {"best": state["best"], "bad_epochs": state["bad_epochs"]}}


def _stateful(callback) -> bool:
    """Whether ``callback`` keeps a state of its own (a plain object with hooks may not
    derive from TrainingCallback)."""
    return getattr(type(callback), "state_dict", TrainingCallback.state_dict) is not TrainingCallback.state_dict


def _finite(v: float):
    return v if isinstance(v, (int, float)) and math.isfinite(v) else None
