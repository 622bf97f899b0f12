"""Evaluation of stereo upmixes: spatial metrics against a reference, DSP baseline upmixers, the `eval` command."""

from .baselines import DSP_UPMIXERS, upmix_dsp
from .metrics import evaluate_upmix, spatial_cues

__all__ = ["DSP_UPMIXERS", "evaluate_upmix", "spatial_cues", "upmix_dsp"]
