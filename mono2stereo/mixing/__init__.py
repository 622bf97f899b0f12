"""Mixing: the mixing styles (where instruments sit, the room) and `mix`, which places stems into a stereo mix."""

from .stem_mix import MixOutput, MixPlacement, StemPlacement, mix
from .styles import INSTRUMENTS, MIXING_STYLES, Placement, style_placement

__all__ = [
    "INSTRUMENTS",
    "MIXING_STYLES",
    "MixOutput",
    "MixPlacement",
    "Placement",
    "StemPlacement",
    "mix",
    "style_placement",
]
