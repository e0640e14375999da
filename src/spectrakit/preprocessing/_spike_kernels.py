"""Compiled row kernels of the Whitaker-Hayes spike test (see :mod:`.quality`).

Per spectrum, the first differences ``d`` get modified z-scores ``(d - median(d)) / scale``
with ``scale = MAD(d) / 0.6745``; when the MAD is zero (flat or piecewise-linear spectra)
``scale`` falls back to ``1.2533 *`` the mean absolute deviation, and where that is zero
too every score is 0. A spike of ``w <= max_width`` points is an abrupt step in followed by
an abrupt step back out (see :func:`spectrakit.preprocessing.quality.spike_mask`).

The kernels reproduce numpy's arithmetic exactly: medians are order statistics found by
selection (the mean of the two middle values for an even count, NaN when any value is NaN,
as :func:`numpy.median`), and the mean absolute deviation is summed pairwise in numpy's
order (:func:`numpy.mean`), so scores and masks equal those of the vectorised formulas bit
for bit. They are compiled with numba and release the GIL, so row blocks run in parallel
threads (:func:`spectrakit.core.threads.run_rows`).
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["MAD_TO_SIGMA", "MEAN_ABS_TO_SIGMA", "spike_mask_rows", "zscore_rows"]

#: Phi^-1(0.75): makes the MAD consistent with a Gaussian sigma.
MAD_TO_SIGMA = 0.6745
#: sqrt(pi / 2): makes the mean absolute deviation consistent with a Gaussian sigma.
MEAN_ABS_TO_SIGMA = 1.2533

# numpy's pairwise summation: blocks of at most this many values are summed directly
_PAIRWISE_BLOCK = 128
# medians: ranges longer than _SMALL values are narrowed (at most _MAX_NARROWINGS times) to
# a window between order statistics of a sorted sample of _SAMPLE values, _MARGIN sample
# positions (about 2 standard deviations of the middle rank's position) on each side
_SMALL = 64
_MAX_NARROWINGS = 4
_SAMPLE = 31
_MARGIN = 6

_jit = numba.njit(cache=True, nogil=True, error_model="numpy")


@_jit
def _block_sum(a, start, n):  # pragma: no cover - compiled
    """Sum of ``a[start:start + n]`` (``n <= 128``) as numpy's pairwise summation leaf does."""
    if n < 8:
        res = 0.0
        for i in range(start, start + n):
            res += a[i]
        return res
    r0 = a[start]
    r1 = a[start + 1]
    r2 = a[start + 2]
    r3 = a[start + 3]
    r4 = a[start + 4]
    r5 = a[start + 5]
    r6 = a[start + 6]
    r7 = a[start + 7]
    stop = start + n - n % 8
    j = start + 8
    while j < stop:
        r0 += a[j]
        r1 += a[j + 1]
        r2 += a[j + 2]
        r3 += a[j + 3]
        r4 += a[j + 4]
        r5 += a[j + 5]
        r6 += a[j + 6]
        r7 += a[j + 7]
        j += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    for i in range(stop, start + n):
        res += a[i]
    return res


@_jit
def _pairwise_sum(a, n):  # pragma: no cover - compiled
    """Sum of ``a[:n]`` in the order of numpy's pairwise summation (:func:`numpy.sum`).

    numpy splits a range longer than 128 values into halves (the first a multiple of 8 long)
    and adds their sums; this walks the same tree with an explicit stack.
    """
    if n <= _PAIRWISE_BLOCK:
        return _block_sum(a, 0, n)
    depth = 4
    size = n
    while size > 0:
        depth += 1
        size >>= 1
    starts = np.empty(depth, dtype=np.intp)
    sizes = np.empty(depth, dtype=np.intp)
    stages = np.zeros(depth, dtype=np.intp)  # 0: left half next, 1: right half next, 2: add
    sums = np.empty(depth + 1)
    starts[0] = 0
    sizes[0] = n
    top = 1
    n_sums = 0
    while top > 0:
        f = top - 1
        lo = starts[f]
        k = sizes[f]
        if k <= _PAIRWISE_BLOCK:
            sums[n_sums] = _block_sum(a, lo, k)
            n_sums += 1
            top -= 1
            continue
        half = k // 2
        half -= half % 8
        if stages[f] == 2:
            n_sums -= 1
            sums[n_sums - 1] = sums[n_sums - 1] + sums[n_sums]
            top -= 1
            continue
        if stages[f] == 0:
            starts[top] = lo
            sizes[top] = half
        else:
            starts[top] = lo + half
            sizes[top] = k - half
        stages[f] += 1
        stages[top] = 0
        top += 1
    return sums[0]


@_jit
def _select(a, n, k):  # pragma: no cover - compiled
    """Reorder ``a[:n]`` (no NaN) so that ``a[k]`` is its k-th smallest value.

    Values before ``k`` end up no larger and values after it no smaller. Quickselect with a
    median-of-three pivot; after too many rounds (adversarial orders) the remaining range is
    sorted instead, which bounds the work at ``O(n log n)``.
    """
    lo = 0
    hi = n - 1
    rounds = 8
    size = n
    while size > 0:  # about 4 log2(n) rounds: expected ones need fewer than 2 log2(n)
        rounds += 4
        size >>= 1
    while hi > lo:
        if rounds == 0:
            a[lo : hi + 1].sort()
            return
        rounds -= 1
        mid = (lo + hi) >> 1
        if a[mid] < a[lo]:
            a[mid], a[lo] = a[lo], a[mid]
        if a[hi] < a[lo]:
            a[hi], a[lo] = a[lo], a[hi]
        if a[hi] < a[mid]:
            a[hi], a[mid] = a[mid], a[hi]
        pivot = a[mid]
        i = lo
        j = hi
        while i <= j:
            while a[i] < pivot:
                i += 1
            while a[j] > pivot:
                j -= 1
            if i <= j:
                a[i], a[j] = a[j], a[i]
                i += 1
                j -= 1
        # now a[lo:j + 1] <= pivot, a[i:hi + 1] >= pivot and a[j + 1:i] == pivot
        if k <= j:
            hi = j
        elif k >= i:
            lo = i
        else:
            return


@_jit
def _median(a, n, work, sample):  # pragma: no cover - compiled
    """Median of ``a[:n]`` (``n >= 1``) as :func:`numpy.median` gives it.

    Overwrites ``a[:n]`` and ``work[:n]``; ``sample`` holds at least ``_SAMPLE`` values.
    Long ranges are first narrowed to the values between two order statistics of a small
    sorted sample that bracket the middle ranks (counting the values below the window), in
    branch-free passes; a window that misses the middle ranks leaves the range to plain
    selection, so the result is exact in every case.
    """
    for i in range(n):
        if np.isnan(a[i]):
            return np.nan
    r_lo = (n - 1) // 2
    r_hi = n // 2
    src = a
    dst = work
    size = n
    for _ in range(_MAX_NARROWINGS):
        if size <= _SMALL:
            break
        for j in range(_SAMPLE):  # insertion sort of evenly spaced values
            v = src[((2 * j + 1) * size) // (2 * _SAMPLE)]
            t = j
            while t > 0 and sample[t - 1] > v:
                sample[t] = sample[t - 1]
                t -= 1
            sample[t] = v
        low = sample[max(r_lo * _SAMPLE // size - _MARGIN, 0)]
        high = sample[min(r_hi * _SAMPLE // size + _MARGIN, _SAMPLE - 1)]
        below = 0
        kept = 0
        for i in range(size):
            v = src[i]
            dst[kept] = v
            kept += (v >= low) & (v <= high)
            below += v < low
        if below > r_lo or r_hi >= below + kept:
            break  # the middle ranks are outside the window: src is intact
        r_lo -= below
        r_hi -= below
        src, dst = dst, src
        size = kept
    _select(src, size, r_hi)
    if r_lo == r_hi:
        return src[r_hi]
    second = src[0]
    for i in range(1, r_hi):
        if src[i] > second:
            second = src[i]
    return (second + src[r_hi]) / 2.0


@_jit
def _diff_scale(x, d, buf, work, sample):  # pragma: no cover - compiled
    """First differences of row ``x`` (n_points >= 2) into ``d``; returns (median, scale).

    Scores are ``(d - median) / scale`` where ``scale > 0`` and 0 elsewhere (``scale`` is 0
    or NaN when neither the MAD nor the mean absolute deviation is positive). ``buf`` and
    ``work`` are work arrays as long as ``d``, ``sample`` one of ``_SAMPLE`` values.
    """
    m = d.shape[0]
    for k in range(m):
        d[k] = np.float64(x[k + 1]) - np.float64(x[k])
        buf[k] = d[k]
    med = _median(buf, m, work, sample)
    for k in range(m):
        buf[k] = abs(d[k] - med)
    mad = _median(buf, m, work, sample)
    if mad > 0:
        return med, mad / MAD_TO_SIGMA
    for k in range(m):  # selection reordered buf: the sum must see the original order
        buf[k] = abs(d[k] - med)
    return med, MEAN_ABS_TO_SIGMA * (_pairwise_sum(buf, m) / m)


@_jit
def zscore_rows(X, out):  # pragma: no cover - compiled
    """Modified z-scores of the rows' first differences: ``X`` (n, p) into ``out`` (n, p - 1)."""
    n, p = X.shape
    if p < 2:
        return
    buf = np.empty(p - 1)
    work = np.empty(p - 1)
    sample = np.empty(_SAMPLE)
    for r in range(n):
        z = out[r]
        med, scale = _diff_scale(X[r], z, buf, work, sample)
        if scale > 0:
            for k in range(p - 1):
                z[k] = (z[k] - med) / scale
        else:
            z[:] = 0.0


@_jit
def _mark_spikes(up, down, max_width, mask):  # pragma: no cover - compiled
    """Mark spikes entering through ``up`` steps and leaving through ``down`` steps.

    ``up[k]`` / ``down[k]`` (k < p - 1) say whether difference ``k`` is an abrupt step in the
    spike's direction / back. Points ``i..i+w-1`` (``1 <= i``, ``i + w <= p - 1``,
    ``w <= max_width``) are a spike when difference ``i - 1`` steps in, difference
    ``i + w - 1`` steps back, and neither difference ``i - 2`` steps in nor difference
    ``i + w`` steps back. The first point is a spike when difference 0 steps back and
    difference 1 does not; the last when difference ``p - 2`` steps in and ``p - 3`` does not.
    """
    m = up.shape[0]
    p = m + 1
    for i in range(1, p - 1):
        if not up[i - 1] or (i >= 2 and up[i - 2]):
            continue
        for w in range(1, min(max_width, p - 1 - i) + 1):
            if down[i + w - 1] and not (i + w < m and down[i + w]):
                for q in range(i, i + w):
                    mask[q] = True
    if p > 2:
        if down[0] and not down[1]:
            mask[0] = True
        if up[m - 1] and not up[m - 2]:
            mask[p - 1] = True
    else:
        if down[0]:
            mask[0] = True
        if up[m - 1]:
            mask[p - 1] = True


@_jit
def spike_mask_rows(X, threshold, max_width, out):  # pragma: no cover - compiled
    """Spike points of each row of ``X`` (n, p >= 2) into the boolean ``out`` (n, p).

    A difference is an abrupt rise where its score is above ``threshold`` and an abrupt fall
    where it is below ``-threshold``; spikes go both ways (cosmic rays up, dead pixels down).
    """
    n, p = X.shape
    m = p - 1
    d = np.empty(m)
    buf = np.empty(m)
    work = np.empty(m)
    sample = np.empty(_SAMPLE)
    rise = np.zeros(m, dtype=np.bool_)
    fall = np.zeros(m, dtype=np.bool_)
    neg = -threshold
    for r in range(n):
        med, scale = _diff_scale(X[r], d, buf, work, sample)
        mask = out[r]
        mask[:] = False
        if scale > 0:
            steps = 0
            for k in range(m):
                z = (d[k] - med) / scale
                rise[k] = z > threshold
                fall[k] = z < neg
                steps += rise[k] | fall[k]
            if steps == 0:
                continue
        else:
            zero_rise = threshold < 0.0
            zero_fall = neg > 0.0
            if not (zero_rise or zero_fall):
                continue
            rise[:] = zero_rise
            fall[:] = zero_fall
        _mark_spikes(rise, fall, max_width, mask)  # cosmic rays: up, then back down
        _mark_spikes(fall, rise, max_width, mask)  # dead pixels: down, then back up
