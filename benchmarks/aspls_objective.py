"""asPLS agreement with pybaselines, judged by the asPLS objective itself.

Run: python benchmarks/aspls_objective.py [--n 300] [--points 1000] [--seed 0] [--show N]

asPLS (Zhang et al. 2020) iterates: from a baseline ``z`` take the residual ``r = y - z``,
the weights ``w = expit(-k (r - sigma) / sigma)`` (``sigma``: spread of the negative
residuals) and the local smoothness ``alpha = |r| / max |r|``, then solve
``(W + diag(alpha) lam D'D) z' = W y``. Dividing row ``i`` by ``alpha_i`` shows that ``z'``
minimises the penalised weighted residual

    Phi(z'; z) = sum_i (w_i / alpha_i) (y_i - z'_i)^2 + lam |D z'|^2,

so an asPLS answer is a fixed point: ``z`` minimises ``Phi(.; z)``. For each spectrum where
spectrakit and pybaselines differ by more than ``1e-3`` of the spectrum's range, this
script prints both answers' objective ``Phi(z; z)`` (the penalised weighted residual at
the answer's own weights; the contract of ``AsPLS(method="fast")`` is that it is no worse
than pybaselines', within a small relative slack), which is lower and by how much, and the
excess ``Phi(z; z) / min Phi(.; z) - 1`` of each (0 for an exact fixed point). Where
pybaselines is lower, both solvers are re-run on inputs 1 ulp away from the spectrum: a
wide range of objectives there means the iteration, not the answer, decides which basin it
ends in. Both spectrakit solvers are scored: ``fast`` (the default) and ``reference``.
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

#: inputs 1 ulp from a spectrum on which each solver is re-run where pybaselines is lower
PERTURBATIONS = 8


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


def ulp_spread(
    y: np.ndarray, fit, lam: float, base: float, k: int = PERTURBATIONS, seed: int = 0
) -> tuple[float, float]:
    """(min, max) of ``Phi(fit(y')) / base`` over ``k`` inputs ``y'`` 1 ulp from ``y``.

    Each ``y'`` moves every value of ``y`` by one unit in the last place, up or down at
    random: a solver whose answer is a stable function of the spectrum gives a narrow range.
    """
    rng = np.random.default_rng(seed)
    phis = []
    for _ in range(k):
        step = rng.choice([-1.0, 1.0], y.size) * np.spacing(y)
        yy = y + step
        phis.append(objective(yy, fit(yy), lam) / base)
    return float(min(phis)), float(max(phis))


def compare(
    Y: np.ndarray, x: np.ndarray, lam: float = 1e5, method: str = "fast", threshold: float = 1e-3
) -> tuple[list[dict], np.ndarray]:
    """Per differing spectrum: the difference and both answers' scores; all objective ratios.

    Returns the rows for spectra differing by more than ``threshold`` of their range, and
    ``Phi(ours) / Phi(pybaselines)`` (own weights each) for every spectrum. Where
    pybaselines has the lower objective, a row also holds both solvers' :func:`ulp_spread`
    relative to pybaselines' objective on the unperturbed spectrum.
    """
    step = AsPLS(lam=lam, method=method)
    ours = step.baseline(Y)
    fitter = Baseline(x)
    rows, ratios = [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")

        def theirs(y: np.ndarray) -> np.ndarray:
            return fitter.aspls(y, lam=lam)[0]

        for i, y in enumerate(Y):
            ref = theirs(y)
            phi_ours, phi_ref = objective(y, ours[i], lam), objective(y, ref, lam)
            ratios.append(phi_ours / phi_ref)
            diff = float(np.abs(ours[i] - ref).max() / np.ptp(y))
            if diff <= threshold:
                continue
            row = {"spectrum": i, "diff": diff, "phi_ours": phi_ours, "phi_ref": phi_ref}
            row["ratio"] = phi_ours / phi_ref
            row["excess_ours"], row["step_ours"] = fixed_point_gap(y, ours[i], lam)
            row["excess_ref"], row["step_ref"] = fixed_point_gap(y, ref, lam)
            if row["ratio"] > 1:
                row["spread_ref"] = ulp_spread(y, theirs, lam, phi_ref)
                mine = ulp_spread(y, lambda v: step.baseline(v[None])[0], lam, phi_ref)
                row["spread_ours"] = mine
            rows.append(row)
    return rows, np.asarray(ratios)


def _spread(row: dict, key: str) -> str:
    """``min-max`` of a row's :func:`ulp_spread`, or empty where it was not measured."""
    lo_hi = row.get(key)
    return f"{lo_hi[0]:.4f}-{lo_hi[1]:.4f}" if lo_hi else ""


def _table(rows: list[dict], show: int | None) -> None:
    """The markdown table of the differing spectra, the highest ratio first."""
    print(
        "| spectrum | max diff / range | Phi spectrakit | Phi pybaselines | lower | by "
        "| excess spectrakit | excess pybaselines | 1-ulp inputs: pybaselines "
        "| 1-ulp inputs: spectrakit |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in sorted(rows, key=lambda r: -r["ratio"])[:show]:
        lower = "spectrakit" if r["ratio"] < 1 else "pybaselines"
        by = abs(1.0 - min(r["phi_ours"], r["phi_ref"]) / max(r["phi_ours"], r["phi_ref"]))
        print(
            f"| {r['spectrum']} | {r['diff']:.2e} | {r['phi_ours']:.6g} | {r['phi_ref']:.6g} "
            f"| {lower} | {100 * by:.2f} % | {r['excess_ours']:.1e} | {r['excess_ref']:.1e} "
            f"| {_spread(r, 'spread_ref')} | {_spread(r, 'spread_ours')} |"
        )


def report(Y: np.ndarray, x: np.ndarray, lam: float = 1e5, show: int | None = None) -> None:
    """Print, for each AsPLS method, a summary line and the table of differing spectra.

    ``show``: at most this many rows per table (the highest objective ratios); all if None.
    """
    for method in ("fast", "reference"):
        rows, ratios = compare(Y, x, lam, method)
        print(f"\n## asPLS `method={method!r}` against pybaselines (lam={lam:g})\n")
        print(
            f"Objective Phi(z; z) (penalised weighted residual at the answer's own weights), "
            f"spectrakit / pybaselines over all {len(Y)} spectra: median {np.median(ratios):.4f}, "
            f"worst {ratios.max():.4f}; spectrakit lower on {(ratios < 1).sum()}. "
            f"{len(rows)} spectra differ by more than 1e-3 of their range"
            + (f"; the {show} with the highest ratio:\n" if show and show < len(rows) else ":\n")
        )
        if not rows:
            continue
        _table(rows, show)
        wins = sum(r["ratio"] < 1 for r in rows)
        print(
            f"\nOf the {len(rows)} differing spectra, spectrakit has the lower objective on "
            f"{wins}, pybaselines on {len(rows) - wins}; worst ratio there "
            f"{max(r['ratio'] for r in rows):.4f}. by: how much lower the lower objective is. "
            "Excess = Phi(z; z) / min Phi(.; z) - 1 (0: exact fixed point). Where pybaselines "
            f"is lower, each solver is re-run on {PERTURBATIONS} inputs 1 ulp from the "
            "spectrum: the range of Phi / Phi(pybaselines, unperturbed) shows how stable each "
            "answer is."
        )


def main() -> None:
    from preprocessing import realistic_spectra

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300, help="number of spectra")
    parser.add_argument("--points", type=int, default=1000, help="points per spectrum")
    parser.add_argument("--seed", type=int, default=0, help="generator seed of the spectra")
    parser.add_argument(
        "--show", type=int, default=None, help="rows per table (default: every differing one)"
    )
    args = parser.parse_args()
    x, Y = realistic_spectra(args.n, args.points, seed=args.seed)
    report(Y, x, show=args.show)


if __name__ == "__main__":
    main()
