"""Reading and writing spectra: one registry, one module per format."""

from spectrakit.core.atomic import atomic_dir, atomic_path
from spectrakit.io._registry import (
    Format,
    available_formats,
    read,
    read_blocks,
    register_format,
    register_writer,
    write,
)

__all__ = [
    "Format",
    "atomic_dir",
    "atomic_path",
    "available_formats",
    "read",
    "read_blocks",
    "register_format",
    "register_writer",
    "write",
]
