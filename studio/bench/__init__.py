"""How fast a project's model runs on every device this machine has (no Qt).

:mod:`studio.bench.targets` lists what can be measured: each torch device in the
configurations that matter (the CPU at one thread and at all cores but one; each CUDA
device plain and with mixed precision and channels_last; MPS; XLA) and each ONNX Runtime
execution provider, with the reason for every one that is absent.
:mod:`studio.bench.measure` repeats a measurement until it is stable.
:mod:`studio.bench.runner` measures one project on those targets, one result per target,
and :mod:`studio.bench.results` keeps the results beside the project's runs.
"""
