"""Measure one project's model on each target: training samples/s, inference latency at
the smallest batch (p50, p99), throughput at each batch size, peak memory, and the
device's own peak (a large matmul) so every figure reads as a share of what the
hardware can do.

Training runs through the trainer itself (:func:`studio.training.project.prepare`), one
epoch of a few batches per round, so the figure is the one a run would see. A target
that fails (out of memory, a device that vanished, a provider that cannot start) gives a
``failed`` result with the reason, and the bench goes on with the next.
"""

from __future__ import annotations

import contextlib
import copy
import math
import time
from dataclasses import asdict, dataclass, field
from typing import Callable, Iterator

from studio.bench.measure import PeakRss, Rounds, Settings, calls_per_round, percentile, until_stable
from studio.bench.targets import ORT, Target
from studio.core.errors import StudioError

DEFAULT_BATCH_SIZES = (1, 8, 64)
# A training step costs about three forward passes (forward, and backward through
# activations and weights): the share of peak for training counts it so.
TRAIN_FLOPS_FACTOR = 3

OK, FAILED, ABSENT = "ok", "failed", "absent"


class BenchError(StudioError):
    pass


@dataclass
class TargetResult:
    target: Target
    status: str  # ok, failed, absent
    reason: str = ""
    train: dict | None = None  # samples_per_s, batch_size, repeats, spread, stable, memory_format
    train_note: str = ""  # why training was not measured
    latency: dict | None = None  # batch_size, p50_ms, p99_ms, calls, repeats, spread, stable
    throughput: list[dict] = field(default_factory=list)  # batch_size, samples_per_s, repeats, spread, stable
    peak_memory: dict = field(default_factory=dict)  # train / inference: bytes or None, and how
    peak: dict | None = None  # flops_per_s of a large matmul, its size and dtype, repeats, spread
    percent_of_peak: dict = field(default_factory=dict)  # train / inference
    seconds: float = 0.0

    @property
    def best_throughput(self) -> dict | None:
        return max(self.throughput, key=lambda t: t["batch_size"]) if self.throughput else None

    def to_json(self) -> dict:
        out = asdict(self)
        out["target"] = self.target.to_json()
        return out


@dataclass
class BenchContext:
    """What every target shares: the model on the CPU, the data, the inputs, the FLOPs."""

    project_name: str
    flops_per_sample: int
    batch_sizes: list[int]
    train_batch_size: int
    input_source: str
    data_note: str = ""  # why training cannot be measured, when it cannot


class Bench:
    """``Bench(project).run(targets)`` yields one :class:`TargetResult` per target."""

    def __init__(self, project, *, weights=None, batch_sizes=DEFAULT_BATCH_SIZES, settings: Settings | None = None,
                 train: bool = True, control=None) -> None:
        self.project = project
        self.weights = weights
        self.batch_sizes = sorted({int(b) for b in batch_sizes})
        self.settings = settings or Settings()
        self.measure_train = train
        self.control = control  # anything with .stopping: checked between targets
        self._peaks: dict[tuple, dict] = {}
        self._onnx: tuple[bytes | None, str] | None = None
        self.context: BenchContext | None = None

    # ---- shared set-up ------------------------------------------------------------------
    def setup(self) -> BenchContext:
        """Compile the model, load the data, count FLOPs. Raises :class:`BenchError` when
        the graph cannot become a model."""
        import torch

        from studio.core.analysis import analyze
        from studio.data.registry import data_section, load_data
        from studio.export.common import build_module
        from studio.export.errors import ExportError

        graph = self.project.graph
        analysis = analyze(graph)
        if analysis.build_errors:
            raise BenchError("cannot bench: " + "; ".join(str(p) for p in analysis.build_errors))
        try:
            self.module = build_module(graph, self.weights)
        except ExportError as exc:
            raise BenchError(f"cannot bench: {exc}") from None
        self.split, note = None, ""
        seed = int(self.project.training.get("seed", 0))
        try:
            self.split = load_data(data_section(self.project), seed=seed,
                                   val_split=float(self.project.training.get("val_split", 0.2)))
        except Exception as exc:  # the bench still measures inference on random inputs
            note = f"no training figures: the data does not load ({_line(exc)})"
        if self.split is not None and not any(o.loss is not None for o in self.module.outputs):
            note = "no training figures: the graph has no loss node"
        largest = self.batch_sizes[-1]
        self.inputs, source = self._inputs(largest)
        with torch.no_grad():
            self.module(*[x[:1] for x in self.inputs])  # the graph runs at all, before any target
        self.context = BenchContext(self.project.name, int(analysis.total_flops), self.batch_sizes,
                                    int(self.project.training.get("batch_size", 64)), source, note)
        return self.context

    def _inputs(self, n: int):
        """``n`` samples of the project's own data (repeated to fill the batch), else random."""
        import torch

        from studio.export.common import sample_inputs

        source = self.split.val if self.split is not None and self.split.val is not None and len(self.split.val) else (
            self.split.train if self.split is not None else None)
        if source is not None and hasattr(source, "fields") and all(
                f in source.fields for f in self.module.input_fields):
            xs = []
            for f, shape in zip(self.module.input_fields, self.module.input_shapes):
                x = source.fields[f][:n]
                x = x.repeat(math.ceil(n / x.shape[0]), *[1] * (x.dim() - 1))[:n]
                xs.append(x.long() if shape.dtype == "long" else x.float())
            return tuple(xs), f"{n} samples of the project's data"
        sample = sample_inputs(self.module, None, self.project.graph, n=n)
        return tuple(sample.inputs), sample.source

    # ---- the run ------------------------------------------------------------------------
    def run(self, targets: list[Target], progress: Callable[[str], None] | None = None) -> Iterator[TargetResult]:
        if self.context is None:
            self.setup()
        say = progress or (lambda text: None)
        for t in targets:
            if self.control is not None and getattr(self.control, "stopping", False):
                return
            if not t.available:
                yield TargetResult(t, ABSENT, t.reason)
                continue
            say(f"measuring {t.id}")
            yield self.measure(t, say)

    def measure(self, t: Target, say: Callable[[str], None] = lambda text: None) -> TargetResult:
        result = TargetResult(t, OK)
        started = time.perf_counter()
        try:
            with _threads(t.threads if t.engine != ORT else None):
                if t.engine == ORT:
                    self._measure_ort(t, result, say)
                else:
                    self._measure_torch(t, result, say)
        except Exception as exc:  # this target only; the bench goes on with the next
            result.status, result.reason = FAILED, _failure(exc)
        finally:
            _release(t)
        result.seconds = time.perf_counter() - started
        self._percentages(result)
        return result

    # ---- torch --------------------------------------------------------------------------
    def _measure_torch(self, t: Target, result: TargetResult, say) -> None:
        import torch

        device = _torch_device(t.device)
        say(f"{t.id}: the device's peak")
        result.peak = self.peak(t.device, t.threads, torch.float16 if t.amp else torch.float32)
        if self.measure_train and not self.context.data_note:
            say(f"{t.id}: training")
            with _peak_memory(device) as mem:
                result.train = self._train(t)
            result.peak_memory["train"] = mem.bytes
        else:
            result.train_note = self.context.data_note if self.measure_train else "training not asked for"
        say(f"{t.id}: inference")
        module = copy.deepcopy(self.module).to(device).eval()
        if t.channels_last:
            module = module.to(memory_format=torch.channels_last)
        autocast = torch.autocast("cuda", dtype=torch.float16) if t.amp else contextlib.nullcontext()

        def make_call(n: int):
            xs = tuple(x[:n].to(device) for x in self.inputs)
            if t.channels_last:
                xs = tuple(x.contiguous(memory_format=torch.channels_last) if x.dim() == 4 else x for x in xs)

            def call():
                with torch.inference_mode(), autocast:
                    module(*xs)
                _sync(device)
            return call

        with _peak_memory(device) as mem:
            self._inference(make_call, result)
        result.peak_memory["inference"] = mem.bytes
        result.peak_memory["how"] = mem.how

    def _train(self, t: Target) -> dict:
        """Samples/s of the trainer's own loop: one epoch of a few batches per round."""
        from studio.training.callbacks import TrainingCallback
        from studio.training.project import prepare

        settings = {"threads": t.threads or 0, "mixed_precision": t.amp, "early_stopping": 0, "schedule": "none",
                    "memory_format": "channels_last" if t.channels_last else "auto"}
        batch = self.context.train_batch_size

        def trainer(epochs: int, max_batches: int, callbacks=()):
            return prepare(self.project, data=self.split, epochs=epochs, device=t.device, settings=settings,
                           max_batches=max_batches, callbacks=callbacks, write_files=False)

        probe = trainer(1, 2)  # one short epoch: how long a batch takes here
        first = probe.fit().history
        available = probe.train_batches.num_batches
        per_batch = batch / first[-1]["samples_per_s"] if first and first[-1].get("samples_per_s") else 0.05
        # A round of training is longer than one of inference: an epoch has fixed costs.
        batches = max(2, min(available, math.ceil(3 * self.settings.round_s / max(per_batch, 1e-6))))
        rounds = Rounds(self.settings)

        class Watch(TrainingCallback):
            def on_train_epoch_end(self, trainer, record):
                if rounds.add(record["samples_per_s"] or 0.0):
                    trainer.request_stop()

        run = trainer(1 + max(self.settings.max_repeats, self.settings.repeats), batches, [Watch()])
        run.fit()
        stat = rounds.stat()
        return {"samples_per_s": stat.value, "batch_size": batch, "batches_per_round": batches,
                "memory_format": "channels_last" if getattr(run, "channels_last", False) else "contiguous",
                **_stat_fields(stat)}

    # ---- onnxruntime --------------------------------------------------------------------
    def onnx_blob(self) -> bytes:
        """The float model as ONNX, exported once for every provider."""
        if self._onnx is None:
            import warnings

            from studio.export.common import check_preflight, dynamic_axes
            from studio.export.errors import ExportError
            from studio.export.onnx import DEFAULT_OPSET, onnx_bytes

            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    check_preflight(self.project.graph)
                    axes = dynamic_axes(self.module, self.project.graph)
                    sample = tuple(x[:2] for x in self.inputs)
                    self._onnx = (onnx_bytes(self.module, sample, DEFAULT_OPSET, axes), "")
            except ExportError as exc:
                self._onnx = (None, str(exc))
        blob, why = self._onnx
        if blob is None:
            raise BenchError(why)
        return blob

    def _measure_ort(self, t: Target, result: TargetResult, say) -> None:
        import torch

        say(f"{t.id}: exporting the model")
        session = ort_session(self.onnx_blob(), t.provider, t.threads)
        result.train_note = "ONNX Runtime runs inference only"
        if t.device == "cpu":
            result.peak = self.peak("cpu", t.threads, torch.float32)
        elif t.device == "cuda" and torch.cuda.is_available():
            result.peak = self.peak("cuda:0", None, torch.float32)
        names = list(self.module.input_names)

        def make_call(n: int):
            feeds = {name: x[:n].numpy() for name, x in zip(names, self.inputs)}
            return lambda: session.run(None, feeds)

        device = _torch_device("cpu")
        with _peak_memory(device) as mem:
            self._inference(make_call, result)
        result.peak_memory["inference"] = mem.bytes if t.device == "cpu" else None
        result.peak_memory["how"] = mem.how if t.device == "cpu" else "not measured for this provider"

    # ---- shared measurements ------------------------------------------------------------
    def _inference(self, make_call, result: TargetResult) -> None:
        smallest = self.batch_sizes[0]
        call = make_call(smallest)
        per_round = calls_per_round(call, self.settings.round_s)
        rounds: list[list[float]] = []

        def latency_round() -> float:
            times = []
            for _ in range(per_round):
                t0 = time.perf_counter()
                call()
                times.append((time.perf_counter() - t0) * 1000)
            rounds.append(times)
            return percentile(times, 50)

        stat, window = until_stable(latency_round, self.settings)
        kept = [ms for r in rounds[-len(window):] for ms in r]
        result.latency = {"batch_size": smallest, "p50_ms": percentile(kept, 50), "p99_ms": percentile(kept, 99),
                          "calls": len(kept), **_stat_fields(stat)}
        for n in self.batch_sizes:
            call = make_call(n)
            k = calls_per_round(call, self.settings.round_s)

            def throughput_round() -> float:
                t0 = time.perf_counter()
                for _ in range(k):
                    call()
                return n * k / (time.perf_counter() - t0)

            stat, _ = until_stable(throughput_round, self.settings)
            result.throughput.append({"batch_size": n, "samples_per_s": stat.value, **_stat_fields(stat)})

    def peak(self, device_id: str, threads: int | None, dtype) -> dict:
        """FLOP/s of a large square matmul on the device (at ``threads`` on the CPU)."""
        key = (device_id, threads, str(dtype))
        if key not in self._peaks:
            import torch

            device = _torch_device(device_id)
            n = 1024 if device.type == "cpu" else 8192 if device.type == "cuda" else 4096
            with _threads(threads):
                a = torch.randn(n, n, device=device, dtype=dtype)
                b = torch.randn(n, n, device=device, dtype=dtype)

                def one():
                    a @ b
                    _sync(device)

                k = calls_per_round(one, self.settings.round_s, limit=1000)
                seen: list[float] = []

                def round_() -> float:
                    t0 = time.perf_counter()
                    for _ in range(k):
                        a @ b
                    _sync(device)
                    seen.append(2 * n ** 3 * k / (time.perf_counter() - t0))
                    return seen[-1]

                stat, _ = until_stable(round_, self.settings)
            # The peak is what the device reached: the best round, not the median (on a
            # shared machine the median falls with the load, and results would pass 100 %).
            best, engine = max(seen[1:] or seen), "torch"
            if device.type == "cpu":  # ONNX Runtime's kernels can beat torch's on the same cores
                other = _ort_matmul_peak(n, threads, self.settings)
                if other is not None and other > best:
                    best, engine = other, "onnxruntime"
            self._peaks[key] = {"flops_per_s": best, "matmul": n, "engine": engine,
                                "dtype": str(dtype).removeprefix("torch."), "threads": threads, **_stat_fields(stat)}
        return dict(self._peaks[key])

    def _percentages(self, result: TargetResult) -> None:
        peak = (result.peak or {}).get("flops_per_s")
        flops = self.context.flops_per_sample if self.context else 0
        if not peak or not flops:
            return
        if result.train:
            result.percent_of_peak["train"] = 100 * result.train["samples_per_s"] * flops * TRAIN_FLOPS_FACTOR / peak
        best = result.best_throughput
        if best:
            result.percent_of_peak["inference"] = 100 * best["samples_per_s"] * flops / peak


def _ort_matmul_peak(n: int, threads: int | None, settings: Settings) -> float | None:
    """FLOP/s of ONNX Runtime's float32 MatMul of two n x n matrices on the CPU: the best round."""
    try:
        import numpy as np
        from onnx import TensorProto, helper

        spec = [helper.make_tensor_value_info(x, TensorProto.FLOAT, [n, n]) for x in "abc"]
        graph = helper.make_graph([helper.make_node("MatMul", ["a", "b"], ["c"])], "peak", spec[:2], spec[2:])
        blob = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString()
        session = ort_session(blob, "CPUExecutionProvider", threads)
        rng = np.random.default_rng(0)
        feeds = {x: rng.standard_normal((n, n), dtype=np.float32) for x in "ab"}
        k = calls_per_round(lambda: session.run(None, feeds), settings.round_s, limit=1000)
        seen: list[float] = []

        def round_() -> float:
            t0 = time.perf_counter()
            for _ in range(k):
                session.run(None, feeds)
            seen.append(2 * n ** 3 * k / (time.perf_counter() - t0))
            return seen[-1]

        until_stable(round_, settings)
        return max(seen[1:] or seen)
    except Exception:  # no onnxruntime: the torch figure stands alone
        return None


def ort_session(blob: bytes, provider: str, threads: int | None):
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    if threads:
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
    session = ort.InferenceSession(blob, opts, providers=[provider])
    if provider not in session.get_providers():  # onnxruntime fell back to the CPU quietly
        raise BenchError(f"{provider} did not start (onnxruntime fell back to {', '.join(session.get_providers())})")
    return session


def _stat_fields(stat) -> dict:
    return {"repeats": stat.repeats, "spread": stat.spread, "stable": stat.stable}


def _torch_device(device_id: str):
    import torch

    if device_id == "xla":
        import torch_xla

        return torch_xla.device()
    return torch.device(device_id)


def _sync(device) -> None:
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()
    elif device.type == "xla":
        import torch_xla.core.xla_model as xm

        xm.mark_step()
        xm.wait_device_ops()


@contextlib.contextmanager
def _threads(n: int | None):
    import torch

    before = torch.get_num_threads()
    if n:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        if torch.get_num_threads() != before:
            torch.set_num_threads(before)


class _Memory:
    bytes: int | None = None
    how: str = ""


@contextlib.contextmanager
def _peak_memory(device):
    """Peak memory of the block: the allocator's high-water mark on CUDA, the driver's
    allocation on MPS and XLA, the process's peak resident memory above its start on the CPU."""
    import torch

    mem = _Memory()
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
        yield mem
        mem.bytes, mem.how = int(torch.cuda.max_memory_allocated(device)), "CUDA allocator peak"
    elif device.type == "mps":
        yield mem
        mem.bytes, mem.how = int(torch.mps.driver_allocated_memory()), "MPS driver allocation after the run"
    elif device.type == "xla":
        yield mem
        try:
            import torch_xla.core.xla_model as xm

            info = xm.get_memory_info(device)
            used = info.get("peak_bytes_used", info.get("bytes_used"))
            mem.bytes, mem.how = (int(used) if used is not None else None), "XLA memory info"
        except Exception:
            mem.how = "not reported by this torch_xla"
    else:
        with PeakRss() as rss:
            yield mem
        mem.bytes = rss.bytes
        mem.how = "peak resident memory above the start" if rss.bytes is not None else "not measurable here"


def _release(t: Target) -> None:
    if t.engine == ORT or not t.device.startswith("cuda"):
        return
    with contextlib.suppress(Exception):
        import torch

        torch.cuda.empty_cache()


def _failure(exc: BaseException) -> str:
    import torch

    if isinstance(exc, torch.OutOfMemoryError) or "out of memory" in str(exc).lower():
        return f"out of memory: {_line(exc)}"
    return _line(exc)


def _line(exc: BaseException) -> str:
    text = (str(exc).strip().splitlines() or [""])[0]
    return f"{type(exc).__name__}: {text}" if not isinstance(exc, StudioError) else text


def bench_project(project, *, weights=None, words=("all",), batch_sizes=DEFAULT_BATCH_SIZES,
                  settings: Settings | None = None, save: bool = True, targets: list[Target] | None = None):
    """The whole bench as a generator, for a worker thread: yields ``("model", dict)``
    first, then ``("progress", text)`` and ``("device", TargetResult)`` as targets are
    measured; returns the path the results were saved to (None with ``save=False`` or
    when it was stopped). Closing the generator stops it between two measurements."""
    from studio.bench.results import save_results
    from studio.bench.targets import list_targets, select

    settings = settings or Settings()
    bench = Bench(project, weights=weights, batch_sizes=batch_sizes, settings=settings)
    chosen, _ = select(targets if targets is not None else list_targets(), list(words))
    ctx = bench.setup()
    yield "model", asdict(ctx)
    results = []
    for t in chosen:
        if not t.available:
            results.append(TargetResult(t, ABSENT, t.reason))
        else:
            yield "progress", f"measuring {t.id}"
            results.append(bench.measure(t))
        yield "device", results[-1]
    return save_results(project, ctx, results, settings) if save else None
