"""Datasets, data modules and the on-disk spectra store (plus leakage-safe splitters)."""

from spectrakit.data.channels import ChannelPreprocessor
from spectrakit.data.datamodule import PretrainDataModule, SpectraDataModule, split_indices
from spectrakit.data.dataset import RandomBatchDataset, SpectraDataset, collate_batch
from spectrakit.data.store import SpectraStore

__all__ = [
    "ChannelPreprocessor",
    "PretrainDataModule",
    "RandomBatchDataset",
    "SpectraDataModule",
    "SpectraDataset",
    "SpectraStore",
    "collate_batch",
    "split_indices",
]

try:  # splitters live in their own module
    from spectrakit.data import splits as _splits
except ImportError:  # pragma: no cover - optional module
    _splits = None
else:
    for _name in getattr(_splits, "__all__", []):
        globals()[_name] = getattr(_splits, _name)
    __all__ += list(getattr(_splits, "__all__", []))
