"""The one background-work helper: values arrive as signals in order, abort stops a
generator at its next step, an error arrives on ``errored``, and quitting waits only
for work still running."""

from __future__ import annotations

import threading

import pytest

from studio.core.errors import StudioError
from studio.ui import workers
from studio.ui.workers import Worker, create_worker


def count(n: int):
    for i in range(n):
        yield i
    return "done"


def test_a_generator_yields_then_returns_then_finishes_in_order(qtbot):
    worker = Worker(count, 3)
    got = []
    worker.yielded.connect(got.append)
    signals = [worker.started, worker.yielded, worker.yielded, worker.yielded, worker.returned, worker.finished]
    with qtbot.waitSignals(signals, order="strict", timeout=10_000):
        worker.start()
    assert got == [0, 1, 2]
    qtbot.waitUntil(lambda: not worker.is_running)


def test_a_function_returns_its_value_on_the_ui_thread(qtbot):
    main = threading.get_ident()
    seen = {}

    def work(a, b):
        seen["thread"] = threading.get_ident()
        return a + b

    def returned(value):
        seen["value"], seen["slot_thread"] = value, threading.get_ident()

    worker = create_worker(work, 2, b=3, _connect={"returned": returned}, _start=False)
    with qtbot.waitSignal(worker.finished, timeout=10_000):
        worker.start()
    assert seen == {"thread": seen["thread"], "value": 5, "slot_thread": main}
    assert seen["thread"] != main  # the work ran off the UI thread


def test_a_function_reports_values_through_report(qtbot):
    def work(report):
        for step in ("load", "check"):
            report(step)
        return "ok"

    worker = create_worker(work, _report=True, _start=False)
    got = []
    worker.yielded.connect(got.append)
    with qtbot.waitSignals([worker.yielded, worker.yielded, worker.returned, worker.finished], order="strict",
                           timeout=10_000):
        worker.start()
    assert got == ["load", "check"]


def test_abort_stops_a_generator_at_its_next_step(qtbot):
    release = threading.Event()
    steps = []

    def endless():
        i = 0
        while True:
            steps.append(i)
            yield i
            release.wait(5)
            i += 1

    worker = create_worker(endless, _start=False)
    returned = []
    worker.returned.connect(returned.append)
    worker.yielded.connect(lambda _v: worker.abort())
    with qtbot.waitSignals([worker.started, worker.yielded, worker.aborted, worker.finished], order="strict",
                           timeout=10_000):
        worker.start()
        qtbot.waitUntil(lambda: worker.abort_requested)
        release.set()
    assert returned == [] and len(steps) <= 2  # it stopped instead of running on


def test_abort_calls_the_works_own_stop_hook(qtbot):
    stop = threading.Event()
    worker = create_worker(lambda: stop.wait(10), _on_abort=stop.set, _start=False)
    with qtbot.waitSignals([worker.aborted, worker.finished], order="strict", timeout=10_000):
        worker.start()
        worker.abort()
    assert stop.is_set()


@pytest.mark.parametrize("exc", [StudioError("data.csv: no column 'label'"), ZeroDivisionError("division by zero")])
def test_an_error_arrives_on_errored_then_finished(qtbot, exc, capsys):
    def fail():
        raise exc

    worker = create_worker(fail, _start=False)
    errors, returned = [], []
    worker.errored.connect(errors.append)
    worker.returned.connect(returned.append)
    with qtbot.waitSignals([worker.started, worker.errored, worker.finished], order="strict", timeout=10_000):
        worker.start()
    assert errors == [exc] and returned == []
    # A message for people is shown as it is; a bug also leaves its traceback on stderr.
    assert ("Traceback" in capsys.readouterr().err) == (not isinstance(exc, StudioError))


def test_quitting_aborts_and_waits_for_running_work_only(qtbot):
    gate = threading.Event()
    ended = []

    def slow():
        while not gate.is_set():
            yield
            gate.wait(0.01)
        ended.append(True)

    done = create_worker(lambda: None)
    qtbot.waitUntil(lambda: not done.is_running)  # finished work holds no thread
    running = create_worker(slow, _on_abort=gate.set, _start=False)
    with qtbot.waitSignal(running.started, timeout=10_000):
        running.start()
    assert workers.running_workers() == [running]
    workers.stop_all()  # what the app does when it is about to quit
    assert running.wait(0) and running.abort_requested


def test_a_worker_starts_once(qtbot):
    worker = create_worker(lambda: None)
    with pytest.raises(RuntimeError, match="already started"):
        worker.start()
    worker.wait()
