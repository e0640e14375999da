"""How many input points a patch model's input is cropped to a multiple of."""

from __future__ import annotations

from typing import Any

__all__ = ["crop_unit"]


def crop_unit(model: Any) -> int:
    """The multiple a model's input length is centre-cropped to (1: nothing is cropped).

    A model that cuts patches of ``patch_size`` input points needs whole patches. One with
    physical patches (``patch_step``) resamples any grid onto its own patch grid, so its
    input keeps every point, in training, pretraining, prediction and export alike.

    Parameters
    ----------
    model : torch.nn.Module or any object
        Read for ``patch_size`` and ``patch_step``.

    Returns
    -------
    int
        ``patch_size``, or 1 without patches or with physical patches.
    """
    if getattr(model, "patch_step", None) is not None:
        return 1
    return int(getattr(model, "patch_size", None) or 1)
