"""The training curves: numbers are appended and drawn by a timer (never once per point),
long runs are drawn downsampled with their peaks kept, a NaN loss leaves the plot usable,
and past runs are overlaid."""

from __future__ import annotations

import math

import numpy as np
import pytest

from studio.training.runs import short_run_name
from studio.ui.training_plots import Series, TrainingPlots


@pytest.fixture
def plots(qtbot):
    widget = TrainingPlots()
    qtbot.addWidget(widget)
    widget.resize(900, 260)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def _epoch(epoch, train, val, acc, lr=0.01):
    return {"epoch": epoch, "train_loss": train, "val_loss": val, "metrics": {"accuracy": acc}, "lr": lr}


def _count_set_data(plots) -> dict[str, int]:
    calls = {name: 0 for name in plots.curves}
    for name, curve in plots.curves.items():
        original = curve.setData

        def counted(*args, _name=name, _original=original, **kwargs):
            calls[_name] += 1
            return _original(*args, **kwargs)
        curve.setData = counted
    return calls


def _drawn(curve):
    x, y = curve.getData()
    return (np.array([]), np.array([])) if x is None else (np.asarray(x), np.asarray(y))


def test_points_appear_on_the_next_timer_tick_not_per_point(plots, qtbot):
    calls = _count_set_data(plots)
    for i in range(500):  # the worker's batched signals, one after another
        plots.add_batches([i / 100, 2.0 - i / 500])
    assert sum(calls.values()) == 0  # nothing is drawn per point
    assert plots.point_counts()["batch"] == 0
    qtbot.waitUntil(lambda: plots.point_counts()["batch"] > 0)
    assert calls["batch"] == 1 and calls["smooth"] == 1
    assert calls["train"] == calls["metric"] == calls["lr"] == 0  # untouched curves are not redrawn
    plots.redraw()
    assert calls["batch"] == 1  # nothing new: nothing redrawn


def test_appended_epochs_show_train_validation_metric_and_learning_rate(plots):
    plots.set_epochs(3)
    plots.add_batches([0.5, 2.0, 1.0, 1.5])
    for e, (train, val, acc) in enumerate([(1.5, 1.6, 0.4), (1.0, 1.2, 0.6), (0.7, 0.9, 0.8)], start=1):
        plots.add_epoch(_epoch(e, train, val, acc, lr=0.01 / e))
    plots.redraw()
    assert plots.point_counts() == {"batch": 2, "smooth": 2, "train": 3, "val": 3, "metric": 3, "lr": 3}
    x, y = _drawn(plots.curves["val"])
    assert list(x) == [1, 2, 3] and list(y) == [1.6, 1.2, 0.9]
    assert plots.metric_plot.titleLabel.text == "accuracy"
    # The loss axis covers every loss drawn.
    lo, hi = plots.loss_plot.getViewBox().viewRange()[1]
    assert lo <= 0.7 and hi >= 2.0
    lo, hi = plots.loss_plot.getViewBox().viewRange()[0]
    assert lo <= 0 and hi >= 3  # the x axis spans the planned epochs


def test_the_smoothed_curve_follows_the_batches_without_their_noise(plots):
    rng = np.random.default_rng(0)
    ys = 1.0 + rng.normal(0, 0.3, 400)
    plots.add_batches(np.column_stack([np.arange(400) / 100, ys]).ravel().tolist())
    plots.redraw()
    smooth = plots.series["smooth"].data()[1]
    assert abs(smooth[-100:].mean() - 1.0) < 0.1
    assert smooth[-100:].std() < ys[-100:].std() / 2


def test_a_long_run_is_drawn_downsampled_and_keeps_its_peaks(plots):
    n = 200_000
    xs = np.linspace(0, 50, n)
    ys = np.full(n, 0.5)
    ys[123_457] = 9.0  # one spike a person must still see
    plots.set_epochs(50)
    plots.add_batches(np.column_stack([xs, ys]).ravel().tolist())
    plots.redraw()
    assert plots.series["batch"].n == n  # every point is kept
    x, y = _drawn(plots.curves["batch"])
    assert 0 < len(x) < n / 10  # far fewer are drawn on a plot a few hundred pixels wide
    assert y.max() == 9.0  # peak downsampling keeps the spike
    assert plots.loss_plot.getViewBox().viewRange()[1][1] >= 9.0


def test_a_nan_loss_leaves_the_plot_usable(plots):
    plots.add_batches([0.1, 1.0, 0.2, math.nan, 0.3, 0.8, 0.4, math.inf])
    plots.add_epoch(_epoch(1, math.nan, None, None))
    plots.add_epoch(_epoch(2, 0.9, 1.1, 0.5))
    plots.redraw()  # must not raise
    lo, hi = plots.loss_plot.getViewBox().viewRange()[1]
    assert math.isfinite(lo) and math.isfinite(hi)
    assert lo <= 0.8 and hi >= 1.1  # the finite losses are in view
    assert plots.point_counts()["val"] == 1  # an epoch without validation adds no point
    # And the next numbers still arrive.
    plots.add_batches([0.5, 0.6])
    plots.redraw()
    assert plots.point_counts()["batch"] == 5


def test_log_scale_ignores_zero_and_negative_losses_for_its_range(plots):
    plots.add_batches([0.1, 10.0, 0.2, 0.01, 0.3, 0.0])
    plots.set_log(True)
    plots.redraw()
    lo, hi = plots.loss_plot.getViewBox().viewRange()[1]
    assert lo <= math.log10(0.01) and hi >= math.log10(10.0)
    assert math.isfinite(lo)


def test_reset_empties_the_live_curves_for_a_new_run(plots):
    plots.add_batches([0.1, 1.0, 0.2, 0.9])
    plots.add_epoch(_epoch(1, 1.0, 1.0, 0.5))
    plots.redraw()
    plots.reset()
    plots.redraw()
    assert plots.point_counts() == {name: 0 for name in plots.curves}


def test_past_runs_are_overlaid_dashed_and_named_by_their_start_time(plots):
    from PySide6.QtCore import Qt

    history = [{"epoch": e, "train_loss": 2.0 / e, "val_loss": 2.2 / e} for e in range(1, 6)]
    plots.set_past([("20261122-063032-cnn-digits", history), ("empty", [])])
    assert len(plots.past_curves) == 1
    curve = plots.past_curves[0]
    assert curve.name() == "06:30:32 (val)"
    assert curve.opts["pen"].style() == Qt.PenStyle.DashLine
    assert plots.loss_plot.getViewBox().viewRange()[0][1] >= 5  # the x axis makes room for it
    plots.set_past([])
    assert plots.past_curves == [] and curve not in plots.loss_plot.listDataItems()


def test_short_run_names():
    assert short_run_name("20261122-063032-cnn-digits") == "06:30:32"
    assert short_run_name("my-own-name-that-is-long") == "my-own-name-that"


def test_series_grows_past_its_first_buffer_and_tracks_its_finite_range():
    s = Series()
    s.extend(np.arange(3000), np.linspace(-1, 2, 3000))
    s.extend([3000, 3001], [math.nan, 5.0])
    x, y = s.data()
    assert len(x) == 3002 and x[-1] == 3001
    assert (s.lo, s.hi) == (-1.0, 5.0)
    assert s.pos_lo == pytest.approx(y[y > 0].min())
