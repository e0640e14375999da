"""Reading and writing spectra: one registry, one module per format."""

from spectrakit._lazy import lazy_attributes
from spectrakit.core.atomic import atomic_dir, atomic_path
from spectrakit.io._limits import ReadLimits

# the registry (and the Spectra container, which needs pandas) loads on first use
_LAZY = {
    name: "spectrakit.io._registry"
    for name in (
        "FORMATS",
        "Format",
        "available_formats",
        "read",
        "read_blocks",
        "register_format",
        "register_writer",
        "write",
        "writer_for",
    )
}
_LAZY.update(dict.fromkeys(("axis_info", "merge_axis_options"), "spectrakit.io._axis_info"))
_CHANNELS = ("join_channels", "read_channels", "write_channels")
_LAZY.update(dict.fromkeys(_CHANNELS, "spectrakit.io.channel_files"))

__all__ = ["ReadLimits", "atomic_dir", "atomic_path", *_LAZY]

__getattr__ = lazy_attributes("spectrakit.io", _LAZY)
