"""asPLS agreement with pybaselines, judged by the asPLS objective itself.

Run: python benchmarks/aspls_objective.py [--n 300] [--points 1000]

asPLS (Zhang et al. 2020) iterates: from a baseline ``z`` take the residual ``r = y - z``,
the weights ``w = expit(-k (r - sigma) / sigma)`` (``sigma``: spread of the negative
residuals) and the local smoothness ``alpha = |r| / max |r|``, then solve
``(W + diag(alpha) lam D'D) z' = W y``. Dividing row ``i`` by ``alpha_i`` shows that ``z'``
minimises the penalised weighted residual

    Phi(z'; z) = sum_i (w_i / alpha_i) (y_i - z'_i)^2 + lam |D z'|^2,

so an asPLS answer is a fixed point: ``z`` minimises ``Phi(.; z)``. For each spectrum where
spectrakit and pybaselines differ by more than ``1e-3`` of the spectrum's range, this
script scores both answers: the objective ``Phi(z; z)`` (the penalised weighted residual at
the answer's own weights; the contract of ``AsPLS(method="fast")`` is that it is no worse
than pybaselines', within a small relative slack), the excess
``Phi(z; z) / min Phi(.; z) - 1`` (0 for an exact fixed point) and the step ``|z' - z|``
one more iteration would take (relative to the range). Smaller is better. Both spectrakit
solvers are scored: ``fast`` (the default) and ``reference``.
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
from pybaselines import Baseline
from scipy.linalg import solveh_banded

from spectrakit.preprocessing.baseline import AsPLS
from spectrakit.preprocessing.baseline._aspls_objective import aspls_objective as _objective
from spectrakit.preprocessing.baseline._aspls_objective import aspls_weights as _weights
from spectrakit.preprocessing.baseline._banded import penalty_upper


def aspls_weights(y: np.ndarray, z: np.ndarray, k: float) -> tuple[np.ndarray, np.ndarray]:
    """asPLS weights ``w`` and smoothness ``alpha`` (n_points,) derived from baseline ``z``."""
    return _weights(y, z, k)


def objective(y: np.ndarray, z: np.ndarray, lam: float, k: float = 0.5) -> float:
    """``Phi(z; z)``: the penalised weighted residual of ``z`` at its own asPLS weights."""
    return float(_objective(y, z, lam, k))


def fixed_point_gap(
    y: np.ndarray, z: np.ndarray, lam: float, k: float = 0.5
) -> tuple[float, float]:
    """(objective excess ``Phi(z; z) / min Phi - 1``, next step ``max |z' - z| / range``)."""
    w, alpha = aspls_weights(y, z, k)
    c = w / alpha
    ab = lam * penalty_upper(y.size, 2)
    ab[-1] += c
    z_next = solveh_banded(ab, c * y)

    def phi(b: np.ndarray) -> float:
        return float(np.sum(c * (y - b) ** 2) + lam * np.sum(np.diff(b, 2) ** 2))

    best = phi(z_next)
    return phi(z) / best - 1.0, float(np.abs(z_next - z).max() / np.ptp(y))


def compare(
    Y: np.ndarray, x: np.ndarray, lam: float = 1e5, method: str = "fast", threshold: float = 1e-3
) -> tuple[list[dict], np.ndarray]:
    """Per differing spectrum: the difference and both answers' scores; all objective ratios.

    Returns the rows for spectra differing by more than ``threshold`` of their range, and
    ``Phi(ours) / Phi(pybaselines)`` (own weights each) for every spectrum.
    """
    ours = AsPLS(lam=lam, method=method).baseline(Y)
    fitter = Baseline(x)
    rows, ratios = [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i, y in enumerate(Y):
            ref = fitter.aspls(y, lam=lam)[0]
            ratio = objective(y, ours[i], lam) / objective(y, ref, lam)
            ratios.append(ratio)
            diff = float(np.abs(ours[i] - ref).max() / np.ptp(y))
            if diff <= threshold:
                continue
            ex_ours, step_ours = fixed_point_gap(y, ours[i], lam)
            ex_ref, step_ref = fixed_point_gap(y, ref, lam)
            rows.append(
                {
                    "spectrum": i,
                    "diff": diff,
                    "ratio": ratio,
                    "excess_ours": ex_ours,
                    "excess_ref": ex_ref,
                    "step_ours": step_ours,
                    "step_ref": step_ref,
                }
            )
    return rows, np.asarray(ratios)


def report(Y: np.ndarray, x: np.ndarray, lam: float = 1e5, show: int = 12) -> None:
    """Print, for each AsPLS method, the markdown table and a summary line."""
    for method in ("fast", "reference"):
        rows, ratios = compare(Y, x, lam, method)
        print(f"\n## asPLS `method={method!r}` against pybaselines (lam={lam:g})\n")
        print(
            f"Objective Phi(z; z) (penalised weighted residual at the answer's own weights), "
            f"spectrakit / pybaselines over all {len(Y)} spectra: median {np.median(ratios):.4f}, "
            f"worst {ratios.max():.4f}; spectrakit lower on {(ratios < 1).sum()}. "
            f"{len(rows)} spectra differ by more than 1e-3 of their range; the largest:\n"
        )
        if not rows:
            continue
        print(
            "| spectrum | max diff / range | Phi ratio (< 1: spectrakit better) | better by Phi "
            "| excess spectrakit | excess pybaselines | step spectrakit | step pybaselines |"
        )
        print("|---|---|---|---|---|---|---|---|")
        for r in sorted(rows, key=lambda r: -r["diff"])[:show]:
            better = "spectrakit" if r["ratio"] < 1 else "pybaselines"
            print(
                f"| {r['spectrum']} | {r['diff']:.2e} | {r['ratio']:.4f} | {better} "
                f"| {r['excess_ours']:.2e} | {r['excess_ref']:.2e} | {r['step_ours']:.2e} "
                f"| {r['step_ref']:.2e} |"
            )
        wins = sum(r["ratio"] < 1 for r in rows)
        print(
            f"\nOf the {len(rows)} differing spectra, spectrakit has the lower objective on "
            f"{wins}; worst ratio there {max(r['ratio'] for r in rows):.4f}. Excess = Phi(z; z) "
            "/ min Phi(.; z) - 1 (0: exact fixed point); step = one more iteration's move."
        )


def main() -> None:
    from preprocessing import realistic_spectra

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300, help="number of spectra")
    parser.add_argument("--points", type=int, default=1000, help="points per spectrum")
    args = parser.parse_args()
    x, Y = realistic_spectra(args.n, args.points)
    report(Y, x)


if __name__ == "__main__":
    main()
