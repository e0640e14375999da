"""Accuracy of the automatic choice, the deep recipes and PLS, with an honest protocol.

Run: python benchmarks/accuracy.py [--quick] [--seeds 5] [--cases fermentation,coffee,...]
     [--json results.json]

Every case builds training spectra with targets, test spectra without them, and (where a
second instrument exists) unlabeled spectra of it. :func:`spectrakit.training.auto.auto_fit`
scores every candidate with the same CV folds on the training spectra only, the choice is
frozen into a :class:`~spectrakit.evaluation.protocol.SealedTargets`, and only then is the
test set scored, once, for every column. Printed per case: RMSEP (or accuracy) mean +- SD
over the seeds, the ratio to PLS from the same run (mean of per-seed ratios), the CV pick of
the automatic choice and the run time per seed: wall seconds and the process's CPU seconds
(on a loaded machine the wall time is inflated; with one torch thread the CPU seconds are
about what a quiet machine takes).

Cases: ``fermentation`` (chemotools ATR-MIR: 21 standards -> 34 HPLC points of the
on-line process, 1,629 unlabeled process spectra), ``coffee`` (ATR-FTIR, 3 origins, a
stratified half for training), ``nir-<n>`` (synthetic NIR-like regression, ``n`` labels,
test on the same instrument), ``nir-transfer-<n>`` (the same training set, test on a
second instrument with 500 of its unlabeled spectra) and ``raman`` (synthetic Raman-like
classification, 8 labels per class, classes differing by one weak shifted band under
fluorescence, spikes and axis shifts). ``--quick`` runs 1 seed (``--seeds`` for more) with 3
folds, n in {30, 100} and shorter CNN schedules; the two-instrument cases alone take at
least 2-3 CPU minutes per seed, so 3 quick seeds cannot fit in 10 minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from spectrakit.core.spectra import Spectra
from spectrakit.datasets.nir import make_nir, nir_instrument_pair
from spectrakit.datasets.raman_classes import make_raman_classes
from spectrakit.evaluation.demo_data import FIELD_PIPELINE as FERMENTATION_PIPELINE
from spectrakit.evaluation.protocol import SealedTargets, strip_targets
from spectrakit.predict.bounds import clip_to_bounds
from spectrakit.preprocessing import preset
from spectrakit.training.auto import auto_fit
from spectrakit.training.deep_recipes import DEEP_RECIPES, available, fit_deep
from spectrakit.training.folds import cv_folds
from spectrakit.training.target_view import choose, target_view

FERMENTATION_D2 = {
    "steps": [
        {"step": "Resample", "params": {"start": 950.0, "stop": 1499.0, "step": 1.343}},
        {"step": "SavitzkyGolay", "params": {"window": 21, "polyorder": 2, "deriv": 2}},
    ]
}
FERMENTATION_DEEP_INPUT = {
    "steps": [{"step": "Resample", "params": {"start": 950.0, "stop": 1549.0, "step": 2.0}}]
}
# glucose is a concentration: the true value is >= 0 (a declared bound, not a tuned one)
FERMENTATION_TARGET_MIN = 0.0
SNV_D1 = {
    "steps": [
        {"step": "SNV", "params": {}},
        {"step": "SavitzkyGolay", "params": {"window": 15, "polyorder": 2, "deriv": 1}},
    ]
}
SNV_D2 = {
    "steps": [
        {"step": "SNV", "params": {}},
        {"step": "SavitzkyGolay", "params": {"window": 21, "polyorder": 2, "deriv": 2}},
    ]
}
SNV = {"steps": [{"step": "SNV", "params": {}}]}
RAMAN_SNV = {
    "steps": [*preset("raman-default").to_config()["steps"], {"step": "SNV", "params": {}}]
}


MARK_START = "<!-- bench-accuracy:start -->"
MARK_END = "<!-- bench-accuracy:end -->"


@dataclass
class Split:
    """One benchmark split: the test targets are sealed, the test spectra carry none."""

    task: str
    train: Spectra
    y: np.ndarray
    test: Spectra
    sealed: SealedTargets
    target: Spectra | None
    pipelines: dict
    deep_input: object = None
    deep: tuple[str, ...] = ("pls_net", "cnn")
    groups: np.ndarray | None = None
    target_min: float | None = None


def _seal(test: Spectra, column: str, name: str) -> tuple[Spectra, SealedTargets]:
    return strip_targets(test, [column]), SealedTargets(test.meta[column].to_numpy(), name=name)


# ---------------------------------------------------------------------- cases
def fermentation(seed: int, quick: bool) -> Split:
    """Standards -> process; the split is fixed, seeds change folds and networks.

    The process file ends with three constant spectra (every value 1.0: placeholders, not
    measurements); they are dropped before the HPLC windows are averaged and from the
    unlabeled set, as the demo does (:func:`~spectrakit.evaluation.demo_data.drop_flat`),
    so the last HPLC point's test spectrum is the mean of its measured spectra.
    """
    from spectrakit.datasets import load_fermentation, load_fermentation_reference
    from spectrakit.evaluation.demo_data import drop_flat, match_reference

    train = load_fermentation("train")
    process = drop_flat(load_fermentation("test"))
    matched = match_reference(process, load_fermentation_reference())
    test, sealed = _seal(matched, "glucose", "HPLC glucose")
    pipes = {"field": FERMENTATION_PIPELINE, "d2": FERMENTATION_D2}
    y = train.meta["glucose"].to_numpy()
    deep = ("pls_net", "pls_net_interferents") + (() if quick else ("cnn",))
    return Split("regression", train, y, test, sealed, process, pipes, FERMENTATION_DEEP_INPUT,
                 deep=deep, target_min=FERMENTATION_TARGET_MIN)  # fmt: skip


def coffee(seed: int, quick: bool) -> Split:
    """A stratified half of the 60 spectra for training, the other half for test."""
    from spectrakit.datasets import load_coffee

    data = load_coffee()
    labels = data.meta["origin"].to_numpy()
    rng = np.random.default_rng(seed)
    train_rows = np.concatenate(
        [rng.permutation(np.flatnonzero(labels == c))[:10] for c in np.unique(labels)]
    )
    test_rows = np.setdiff1d(np.arange(len(labels)), train_rows)
    test, sealed = _seal(data.select(test_rows), "origin", "coffee origins")
    pipes = {"snv": SNV, "snv+d1": SNV_D1}
    train = data.select(train_rows)
    return Split("classification", train, labels[train_rows], test, sealed, None, pipes,
                 deep=("pls_net", "cnn"))  # fmt: skip


def _nir(seed: int, n: int):
    master, slave = nir_instrument_pair()
    data = make_nir(n + 1000, instruments=(master, slave), seed=seed)
    a = data["A"].crop(1104.0, 2492.0)
    b = data["B"].resample(a.axis.values)
    return a, b, np.arange(n), np.arange(n, n + 500), np.arange(n + 500, n + 1000)


def nir(n: int) -> Callable[[int, bool], Split]:
    """Synthetic NIR-like regression on the training instrument."""

    def case(seed: int, quick: bool) -> Split:
        a, _, tr, te, _ = _nir(seed, n)
        test, sealed = _seal(a.select(te), "analyte", "analyte")
        pipes = {"snv+d1": SNV_D1, "snv+d2": SNV_D2}
        y = a.meta["analyte"].to_numpy()[tr]
        return Split("regression", a.select(tr), y, test, sealed, None, pipes, deep=("pls_net",))

    return case


def nir_transfer(n: int) -> Callable[[int, bool], Split]:
    """Train on instrument A, test on instrument B with 500 unlabeled B spectra."""

    def case(seed: int, quick: bool) -> Split:
        a, b, tr, te, unl = _nir(seed, n)
        test, sealed = _seal(b.select(te), "analyte", "analyte")
        pipes = {"snv+d1": SNV_D1, "snv+d2": SNV_D2}
        target = strip_targets(b.select(unl), ["analyte"])
        y = a.meta["analyte"].to_numpy()[tr]
        # quick: the matched network only (the unmatched one is the slowest candidate and
        # the adaptation alone moves it little)
        deep = ("pls_net_matched",) if quick else ("pls_net", "pls_net_matched")
        return Split("regression", a.select(tr), y, test, sealed, target, pipes, deep=deep)

    return case


def raman(seed: int, quick: bool) -> Split:
    """Four Raman-like classes told apart by one weak, shifted marker band, 8 labels per class.

    Fluorescence backgrounds, cosmic spikes and a per-spectrum axis shift of up to 2 cm-1
    (:mod:`spectrakit.datasets.raman_classes`); 400 test spectra. The CNN reads the spectra
    after the field's Raman preset (despiking, smoothing, baseline removal; no step is fitted
    to targets), declared for the technique like the fermentation case's deep input.
    """
    data = make_raman_classes(432, seed)
    labels = data.meta["label"].to_numpy()
    rng = np.random.default_rng(seed + 1)
    tr = np.concatenate(
        [rng.permutation(np.flatnonzero(labels == c))[:8] for c in np.unique(labels)]
    )
    te = np.setdiff1d(np.arange(len(labels)), tr)
    test, sealed = _seal(data.select(te), "label", "classes")
    pipes = {"raman-default": "raman-default", "raman+snv": RAMAN_SNV}
    return Split("classification", data.select(tr), labels[tr], test, sealed, None, pipes,
                 deep_input="raman-default", deep=("pls_net", "cnn"))  # fmt: skip


CASES: dict[str, Callable[[int, bool], Split]] = {
    "fermentation": fermentation,
    "coffee": coffee,
    **{f"nir-{n}": nir(n) for n in (30, 100, 400)},
    **{f"nir-transfer-{n}": nir_transfer(n) for n in (30, 100, 400)},
    "raman": raman,
}
QUICK = (
    "nir-transfer-30",
    "fermentation",
    "nir-transfer-100",
    "nir-30",
    "coffee",
    "raman",
    "nir-100",
)


# ---------------------------------------------------------------------- running
def _metric(task: str):
    if task == "regression":

        def rmse_bias(y, p):
            err = np.asarray(p, float) - np.asarray(y, float)
            return {"score": float(np.sqrt(np.mean(err**2))), "bias": float(err.mean())}

        return rmse_bias
    return lambda y, p: {"score": float(np.mean(np.asarray(p) == np.asarray(y)))}


def _candidates(split: Split, folds: list, seed: int, quick: bool) -> tuple[list, object]:
    """PLS and transfer candidates (auto_fit), then the registry's recipes, same folds."""
    choice = auto_fit(
        split.train, split.y, task=split.task, pipelines=split.pipelines, target=split.target,
        deep=(), folds=folds, seed=seed, quick=quick,
    )  # fmt: skip
    pls = min((c for c in choice.candidates if c.name.startswith("pls[")), key=lambda c: c.cv_error)
    pipe = split.pipelines[pls.name[4:-1]]
    names = (
        available(split.task, split.target is not None, "pls") if split.target is not None else []
    )
    view = target_view(split.train, split.target)  # shared by every transfer candidate
    fits = [
        fit_deep(name, split.train, split.y, task=split.task, pipeline=pipe, folds=folds,
                 target=split.target, deep_input=split.deep_input, seed=seed, quick=quick,
                 view=view)
        for name in [*names, *split.deep]
    ]  # fmt: skip
    return [*choice.candidates, *fits], pls


def _below(chosen, split: Split, domain: str) -> float | None:
    """Share of auto's predictions on the unlabeled target spectra under the declared bound."""
    if split.target_min is None or split.target is None:
        return None
    return float(np.mean(chosen.predict(split.target, domain) < split.target_min))


def run_split(split: Split, seed: int, quick: bool) -> dict:
    """Choose on training data, freeze, then score every column once.

    The automatic choice is the candidate with the lowest CV error on the training spectra
    (PLS wins ties); with target spectra only transfer-aware candidates compete, ranked by
    their CV error on the training spectra simulated as the new instrument measures them
    (:mod:`spectrakit.training.target_view`) when that instrument model fits.
    """
    t0, c0 = time.perf_counter(), time.process_time()
    codes = None if split.task == "regression" else np.unique(split.y, return_inverse=True)[1]
    folds = cv_folds(len(split.y), k=3 if quick else 5, y=codes, groups=split.groups, seed=seed)
    cands, pls = _candidates(split, folds, seed, quick)
    domain = "source" if split.target is None else "target"
    chosen, by_view = choose(cands, split.target is not None)
    preds = {"PLS": pls.predict(split.test, domain)}
    if split.target is not None:
        preds["PLS (no transfer)"] = pls.predict(split.test, "source")
    for c in cands:
        if not c.name.startswith("pls["):
            preds[c.name] = c.predict(split.test, domain)
    preds["auto"] = chosen.predict(split.test, domain)
    if split.target_min is not None:  # a declared bound of the target, applied to every column
        lo = split.target_min
        preds = {"auto (unbounded)": preds["auto"],
                 **{k: clip_to_bounds(v, lower=lo) for k, v in preds.items()}}  # fmt: skip
    split.sealed.freeze({"auto": chosen.name, "pls": pls.name})
    scores = split.sealed.score(preds, _metric(split.task))
    return {
        "scores": scores,
        "auto_choice": chosen.name,
        "cv": {c.name: c.cv_error for c in cands},
        "target_view": {c.name: c.target_error for c in cands if c.target_error is not None},
        "ranked_by": "target view" if by_view else "cv",
        "below_target_min": _below(chosen, split, domain),
        "seconds": time.perf_counter() - t0,
        "cpu_seconds": time.process_time() - c0,
    }


def _summary(runs: list[dict], task: str) -> list[dict]:
    cols = list(runs[0]["scores"])
    rows = []
    for col in cols:
        vals = np.array([r["scores"][col]["score"] for r in runs])
        ratio = np.array([r["scores"][col]["score"] / r["scores"]["PLS"]["score"] for r in runs])
        row = {"column": col, "mean": vals.mean(), "sd": vals.std(ddof=1) if len(vals) > 1 else 0.0,
               "ratio_to_pls": ratio.mean()}  # fmt: skip
        if task == "regression":
            row["bias"] = float(np.mean([r["scores"][col]["bias"] for r in runs]))
        rows.append(row)
    return rows


def _ranked(runs: list[dict]) -> str:
    """How the transfer candidates were ranked, when some run used the target view."""
    n = sum(r.get("ranked_by") == "target view" for r in runs)
    return f"; transfer candidates on the target view in {n} of {len(runs)} runs" if n else ""


def _table(case: str, task: str, rows: list[dict], runs: list[dict]) -> list[str]:
    """Markdown lines of one case's table."""
    what = "RMSEP" if task == "regression" else "accuracy"
    secs = np.mean([r["seconds"] for r in runs])
    cpu = [r.get("cpu_seconds") for r in runs]
    cpu_note = "" if None in cpu else f", {np.mean(cpu):.0f} s CPU"
    picks = ", ".join(f"{k} x{v}" for k, v in
                      sorted(Counter(r["auto_choice"] for r in runs).items()))  # fmt: skip
    reg = task == "regression"
    lines = [
        f"### {case}: {what}, mean +- SD over {len(runs)} seeds ({secs:.0f} s per seed{cpu_note})",
        "",
        f"auto chose (by CV on training data{_ranked(runs)}): {picks}",
        "",
        f"| column | {what} | ratio to PLS |" + (" mean bias |" if reg else ""),
        "|---|---|---|" + ("---|" if reg else ""),
    ]
    for r in rows:
        line = f"| {r['column']} | {r['mean']:.4g} +- {r['sd']:.2g} | {r['ratio_to_pls']:.3f} |"
        lines.append(line + (f" {r['bias']:+.3g} |" if reg else ""))
    return [*lines, ""]


def write_markdown(path: str, lines: list[str], header: str) -> None:
    """Replace the generated block of ``path`` (between the markers) with ``lines``."""
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    if MARK_START not in text or MARK_END not in text:
        raise SystemExit(f"{path} has no {MARK_START} ... {MARK_END} block to replace")
    head, rest = text.split(MARK_START, 1)
    tail = rest.split(MARK_END, 1)[1]
    block = "\n".join([MARK_START, header, "", *lines, MARK_END])
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(head + block + tail)
    os.replace(tmp, path)


def _header(quick: bool, n_seeds: int | str, threads: int) -> str:
    mode = "--quick" if quick else "full"
    note = " (--quick runs fewer seeds than the full run's 5)" if quick and n_seeds != 5 else ""
    return (f"Generated by `benchmarks/accuracy.py` ({mode}, {n_seeds} seeds{note}, {threads} "
            "torch thread(s), on a shared 2-core machine).")  # fmt: skip


def _merged(paths: list[str]) -> dict:
    """Cases of saved runs, in order; runs of one case (and column set) over files joined.

    Seeds run in separate invocations (``--first-seed``) of the same case and columns form
    one table; each seed keeps its own PLS, so per-seed ratios stay same-run ratios. A later
    file supersedes: a seed run again replaces its earlier run (never counted twice), and a
    case run again with other columns replaces the earlier table.
    """
    out: dict = {}
    for path in paths:
        with open(path, encoding="utf-8") as fh:
            saved = json.load(fh)
        for case, res in saved.items():
            if case.startswith("_"):
                continue
            key = f"{case} ({res['label']})" if res.get("label") else case
            cols = list(res["runs"][0]["scores"])
            if key in out and list(out[key]["runs"][0]["scores"]) == cols:
                again = {r.get("seed") for r in res["runs"]} - {None}
                kept = [r for r in out[key]["runs"] if r.get("seed") not in again]
                out[key]["runs"] = kept + res["runs"]
            else:
                out[key] = dict(res)
    for res in out.values():
        res["summary"] = _summary(res["runs"], res["task"])
    return out


def render(paths: list[str], markdown: str | None) -> int:
    """Tables of saved runs (``--json`` files) into ``markdown`` (or stdout)."""
    lines, meta = [], set()
    for case, res in _merged(paths).items():
        lines += _table(case, res["task"], res["summary"], res["runs"])
        meta.add((bool(res.get("quick", True)), len(res["runs"]), res.get("threads", 1)))
    if markdown is None:
        print("\n".join(lines))
        return 0
    quick, _, threads = sorted(meta)[0] if meta else (True, 0, 1)
    counts = sorted({m[1] for m in meta}) or [0]
    n_seeds = f"{counts[0]}-{counts[-1]}" if len(counts) > 1 else counts[0]
    write_markdown(markdown, lines, _header(quick, n_seeds, threads))
    return 0


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add = p.add_argument
    add("--quick", action="store_true", help="1 seed, 3 folds, fewer cases, shorter schedules")
    add("--seeds", type=int, default=None, help="seeds per case (default 5; quick 1)")
    add(
        "--first-seed",
        type=int,
        default=0,
        help="first seed (run further seeds of a case later; --render joins them)",
    )
    add(
        "--deep",
        default=None,
        help="comma-separated deep recipes for every case instead of each case's own",
    )
    add("--cases", default=None, help="comma-separated: " + ", ".join(CASES))
    add("--json", default=None, help="also write all results to this file")
    add("--markdown", default=None, help="replace the tables block of this file")
    add(
        "--label",
        default=None,
        help="shown after the case name (e.g. which deep recipes this run measured)",
    )
    add(
        "--render",
        default=None,
        help="comma-separated --json files of earlier runs: write their tables to "
        "--markdown (cases in the order given; runs of one case joined) instead of running",
    )
    return p  # fmt: skip


def _checked(p: argparse.ArgumentParser, args) -> tuple[list[str], tuple[str, ...] | None]:
    """Case names and deep-recipe override, refused with one line when unknown."""
    names = args.cases.split(",") if args.cases else list(QUICK if args.quick else CASES)
    unknown = [n for n in names if n not in CASES]
    if unknown:
        p.error(f"unknown case {unknown}; expected some of {', '.join(CASES)}")
    deep = tuple(args.deep.split(",")) if args.deep else None
    unknown = [d for d in deep or () if d not in DEEP_RECIPES]
    if unknown:
        p.error(f"unknown deep recipe {unknown}; expected some of {', '.join(DEEP_RECIPES)}")
    return names, deep


def main(argv: list[str] | None = None) -> int:
    p = _parser()
    args = p.parse_args(argv)
    if args.render:
        return render(args.render.split(","), args.markdown)
    torch.set_num_threads(int(os.environ.get("SPECTRAKIT_BENCH_THREADS", "1")))
    names, deep = _checked(p, args)
    n_seeds = args.seeds or (1 if args.quick else 5)
    out, lines = {}, []
    for name in names:
        runs = []
        for seed in range(args.first_seed, args.first_seed + n_seeds):
            split = CASES[name](seed, args.quick)
            split.deep = deep if deep is not None else split.deep
            runs.append(run_split(split, seed, args.quick) | {"seed": seed})
        rows = _summary(runs, split.task)
        table = _table(f"{name} ({args.label})" if args.label else name, split.task, rows, runs)
        print("\n".join(["", *table]), flush=True)
        lines += table
        out[name] = {"task": split.task, "summary": rows, "runs": runs, "quick": args.quick,
                     "threads": torch.get_num_threads(), "label": args.label}  # fmt: skip
        # after every case, so a long run keeps what it measured
        if args.markdown:
            header = _header(args.quick, n_seeds, torch.get_num_threads())
            write_markdown(args.markdown, lines, header)
        if args.json:
            with open(args.json, "w", encoding="utf-8") as fh:
                json.dump(out, fh, indent=1, default=float)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
