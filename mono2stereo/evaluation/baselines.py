"""The DSP upmixers under their first documented name; they live in `mono2stereo.dsp` (`from mono2stereo.dsp
import upmix_dsp`)."""

from ..dsp import dsp_upmixer_name
from ..dsp.upmixers import DSP_UPMIXERS, upmix_dsp

__all__ = ["DSP_UPMIXERS", "dsp_upmixer_name", "upmix_dsp"]
