"""High-level training: ``fit_supervised``, ``pretrain`` and ``resume``; each ends in a bundle.

Every option lives in a typed configuration (:class:`~spectrakit.training.config.FitConfig`,
:class:`~spectrakit.training.config.PretrainConfig`): pass ``config=`` or the fields as
keyword arguments. A run keeps its working state next to the bundle, in ``<out>.run/``:
``run.json`` (the configuration of the call), ``checkpoints/last.ckpt`` (refreshed every
``checkpoint_every`` steps, written atomically), ``checkpoints/best.ckpt`` (the weights of
the lowest validation loss) and logs (CSV, TensorBoard). Re-running with ``resume=True``
(or :func:`resume`) continues from ``last.ckpt`` at the exact optimizer step and stops at
the same total number of steps. The final artifact is always the safetensors bundle written
from the best checkpoint; checkpoints never leave the run directory.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from spectrakit.core.spectra import Spectra
from spectrakit.data.store import SpectraStore
from spectrakit.training import fit_stages as fs
from spectrakit.training import pretrain_stages as ps
from spectrakit.training.config import FitConfig, PretrainConfig
from spectrakit.training.run import fit_task, read_run, run_dir, schedule, start_run
from spectrakit.training.trainer import TrainerOptions

__all__ = ["common_grid", "fit_supervised", "pretrain", "resume", "run_dir"]

common_grid = ps.common_grid
_TEMP_HOLDERS: list[Any] = []


def fit_supervised(
    train: Spectra,
    targets: str | Sequence[str],
    *,
    config: FitConfig | None = None,
    val: Spectra | None = None,
    out: str | Path | None = None,
    **options: Any,
) -> Any:
    """Train (or fine-tune) a model on labelled spectra and return its Predictor.

    Parameters
    ----------
    train : Spectra or ChannelSet
        Training spectra (targets: ``train.meta`` columns), or measured channels.
    targets : str or sequence of str
        Target column(s): numeric for regression, one label column for classification,
        several 0/1 columns for multi-label.
    config : FitConfig, optional
        Every training option (default: ``FitConfig()``); keyword ``options`` update it.
    val : Spectra or ChannelSet, optional
        Validation spectra (default: ``val_fraction`` of ``train``, split by ``groups``).
    out : str or Path, optional
        Bundle directory (a temporary one when omitted).
    **options
        Fields of :class:`FitConfig` (``task``, ``model``, ``pipeline``, ``init``,
        ``max_epochs``, ``batch_size``, ``lr``, ``seed``, ``freeze``, ``schedule``, ``ood``,
        the trainer options ...); an unknown name is refused, naming the close matches.

    Returns
    -------
    Predictor
        The trained model loaded from its bundle, with its OOD detector (``ood="none"``:
        without); ``None`` on non-zero distributed ranks.

    Examples
    --------
    >>> predictor = fit_supervised(spectra, "glucose", model="cnn1d_tiny")  # doctest: +SKIP
    >>> predictor.predict(new_spectra)["glucose"]  # doctest: +SKIP
    """
    cfg = FitConfig.build(config, **options)
    given_train, given_val, layout = fs.measured_inputs(train, val, cfg)
    train, val, targets = fs.fit_inputs(given_train, targets, given_val, cfg)
    train, facts = fs.fit_screen(train, targets, cfg, layout)
    run = start_run(out, "supervised", {"targets": targets}, cfg)
    data = fs.fit_data(train, val, targets, cfg, facts, layout)
    cfg, n_batches = fs.fit_epochs(cfg, data)  # small sets get more epochs
    spec = fs.output_spec(data, cfg)
    net = fs.fit_model(data, spec, cfg)
    trainer_opts = TrainerOptions(**cfg.trainer_kwargs())
    total = schedule(n_batches, cfg, trainer_opts)
    task = fs.supervised_task(net, spec, data, cfg, total)
    sweep = fs.lr_sweep(task, data, run, cfg)
    fitted = fit_task(task, data.dm, run, cfg, trainer_opts, total, before_fit=sweep)
    if fitted is None:
        return None
    predictor = fs.package_fit(run, data, task, *fitted, cfg, trainer_opts.to_dict())
    predictor = fs.fit_ood(predictor, run, given_train, given_val, cfg)
    predictor._holder = run.holder
    return predictor


def pretrain(
    spectra: Spectra | SpectraStore | Sequence[Spectra | SpectraStore],
    *,
    config: PretrainConfig | None = None,
    out: str | Path | None = None,
    **options: Any,
) -> Path:
    """Pretrain an encoder by masked spectral modeling on unlabeled spectra.

    Parameters
    ----------
    spectra : Spectra, SpectraStore or a sequence of them
        Unlabeled spectra, possibly from several instruments. Axis-aware models
        (``spectrafm_*``) see each instrument on its own axis; other models see every source
        resampled onto one common grid (the range all of them cover).
    config : PretrainConfig, optional
        Every pretraining option (default: ``PretrainConfig()``); ``options`` update it.
    out : str or Path, optional
        Bundle directory (temporary when omitted).
    **options
        Fields of :class:`PretrainConfig` (``model``, ``mask_ratio``, ``mask_mode``,
        ``normalize``, ``grid``, ``pipeline``, ``max_epochs``, ``batch_size``, ``lr``,
        ``seed``, the trainer options ...).

    Returns
    -------
    Path
        The pretrained bundle (task ``"pretrained"``), usable as ``init`` of
        :func:`fit_supervised`.
    """
    cfg = PretrainConfig.build(config, **options)
    raw = ps.pretrain_sources(spectra)
    run = start_run(out, "pretrain", {}, cfg)
    probe, kwargs = ps.probe_model(cfg)
    data = ps.pretrain_data(raw, probe, cfg)
    net = ps.pretrain_model(data, probe, kwargs, cfg)
    trainer_opts = TrainerOptions(**cfg.trainer_kwargs())
    total = schedule(len(data.dm.train_dataset), cfg, trainer_opts)
    task = ps.masked_task(net, cfg, total)
    monitor = "val_loss" if data.dm.val_dataset is not None else None
    fitted = fit_task(task, data.dm, run, cfg, trainer_opts, total, monitor=monitor)
    if fitted is None:
        return run.out
    ps.package_pretrained(run, data, task, *fitted, cfg, trainer_opts.to_dict())
    if run.holder is not None:  # keep a temporary bundle alive for the caller's session
        _TEMP_HOLDERS.append(run.holder)
    return run.out


def resume(
    out: str | Path,
    data: Spectra | SpectraStore | Sequence[Spectra | SpectraStore],
    *,
    val: Spectra | None = None,
    **overrides: Any,
) -> Any:
    """Continue an interrupted run from its last checkpoint with its recorded configuration.

    Parameters
    ----------
    out : str or Path
        Bundle directory of the interrupted run (its ``<out>.run/`` holds the checkpoint).
    data : Spectra, SpectraStore or sequence
        The same training data as the first call (data are not copied into the run).
    val : Spectra, optional
        The same validation data, if the first call had any.
    **overrides
        Options to change (e.g. ``progress=False``); architecture and schedule stay.

    Returns
    -------
    Predictor or Path
        What the original call returns.
    """
    work = Path(overrides.pop("work_dir", None) or run_dir(out))
    rec = read_run(work)
    overrides.update(resume=True, work_dir=str(work))
    if rec["kind"] == "pretrain":
        return pretrain(
            data, config=PretrainConfig.from_record(rec["config"], **overrides), out=out
        )
    cfg = FitConfig.from_record(rec["config"], **overrides)
    return fit_supervised(data, rec["targets"], config=cfg, val=val, out=out)
