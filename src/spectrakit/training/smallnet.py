"""The small stacked-channel CNN, defined in :mod:`spectrakit.models.smallnet`.

It lives with the model families so that a saved ensemble loads, serves and exports without
training code; this module keeps the training-side import path.
"""

from spectrakit.models.smallnet import CHANNELS, ChannelStack, SmallCNN, SpectralNet

__all__ = ["CHANNELS", "ChannelStack", "SmallCNN", "SpectralNet"]
