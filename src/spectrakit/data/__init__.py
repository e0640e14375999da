"""Datasets, data modules, the on-disk spectra store, and leakage-safe splitters.

Names load on first use: the splitters and the per-channel preprocessing need only NumPy,
while the datasets and data modules import torch and Lightning.
"""

from __future__ import annotations

from spectrakit._lazy import lazy_attributes
from spectrakit.data.splits import __all__ as _split_names

_LAZY = {
    "ChannelPreprocessor": "spectrakit.preprocessing.channels",
    "PretrainDataModule": "spectrakit.data.datamodule",
    "SpectraDataModule": "spectrakit.data.datamodule",
    "split_indices": "spectrakit.data.datamodule",
    "RandomBatchDataset": "spectrakit.data.dataset",
    "SpectraDataset": "spectrakit.data.dataset",
    "collate_batch": "spectrakit.data.dataset",
    "SpectraStore": "spectrakit.data.store",
    **dict.fromkeys(_split_names, "spectrakit.data.splits"),
}

__all__ = sorted(_LAZY)


__getattr__ = lazy_attributes("spectrakit.data", _LAZY)
