"""Reusable neural-network blocks for spectral models (layer types passed in, timm style)."""

from spectrakit.layers.attention import Attention
from spectrakit.layers.create_act import get_act_layer
from spectrakit.layers.fusion import ExtraFusion
from spectrakit.layers.inception import InceptionBlock1d
from spectrakit.layers.mixer import MixerBlock
from spectrakit.layers.mlp import Mlp
from spectrakit.layers.patch_embed import PatchEmbed1d, patchify, unpatchify
from spectrakit.layers.pos_embed import FourierAxisEmbed, LearnedPosEmbed, sincos_embed
from spectrakit.layers.residual import BasicBlock, PreActBlock, conv_norm_act
from spectrakit.layers.squeeze_excite import SqueezeExcite
from spectrakit.layers.transformer import Block

__all__ = [
    "Attention",
    "BasicBlock",
    "Block",
    "ExtraFusion",
    "FourierAxisEmbed",
    "InceptionBlock1d",
    "LearnedPosEmbed",
    "MixerBlock",
    "Mlp",
    "PatchEmbed1d",
    "PreActBlock",
    "SqueezeExcite",
    "conv_norm_act",
    "get_act_layer",
    "patchify",
    "sincos_embed",
    "unpatchify",
]
