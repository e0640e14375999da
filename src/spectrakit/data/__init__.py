"""Datasets, data modules, the on-disk spectra store, and leakage-safe splitters.

Names load on first use: the splitters and the per-channel preprocessing need only NumPy,
while the datasets and data modules import torch and Lightning.
"""

from __future__ import annotations

from spectrakit._lazy import by_module, lazy_attributes
from spectrakit.data.splits import __all__ as _split_names

_LAZY = by_module(
    {
        "spectrakit.preprocessing.channels": ("ChannelPreprocessor",),
        "spectrakit.data.datamodule": ("PretrainDataModule", "SpectraDataModule", "split_indices"),
        "spectrakit.data.dataset": ("RandomBatchDataset", "SpectraDataset", "collate_batch"),
        "spectrakit.data.store": ("SpectraStore",),
        "spectrakit.data.splits": _split_names,
    }
)

__all__ = sorted(_LAZY)


__getattr__ = lazy_attributes("spectrakit.data", _LAZY)
