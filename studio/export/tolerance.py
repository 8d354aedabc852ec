"""How close two computations of the same model must be: one rule for the export check and
for the verification of an import against its source file.

Float32 results drift by rounding in proportion to their size, so the limit grows with the
output's magnitude, in the manner of ``numpy.allclose``: absolute for outputs up to 1, relative
to the largest value beyond (a difference of 0.027 on outputs of 12,000 is 2e-6 of them).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

TOLERANCE = 1e-4


def allowed(magnitude: float, tolerance: float = TOLERANCE) -> float:
    """The largest difference accepted on an output whose largest absolute value is ``magnitude``."""
    return tolerance * max(1.0, magnitude)


@dataclass(frozen=True)
class Difference:
    """The largest difference between two results of one output, and the output's size."""

    abs: float
    magnitude: float

    @property
    def rel(self) -> float:
        return self.abs / max(self.magnitude, 1e-30)

    def within(self, tolerance: float = TOLERANCE) -> bool:
        return self.abs <= allowed(self.magnitude, tolerance)  # NaN is never within


def difference(got, want) -> Difference:
    """``got`` against the reference ``want`` (arrays or tensors of one shape), in float64."""
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    same = (got == want) | (np.isnan(got) & np.isnan(want))  # NaN where the reference has NaN agrees
    if same.all():
        return Difference(0.0, float(np.abs(want[np.isfinite(want)]).max(initial=0.0)))
    finite = np.isfinite(want)
    magnitude = float(np.abs(want[finite]).max(initial=0.0))
    return Difference(float(np.abs(got - want)[~same].max()), magnitude)
