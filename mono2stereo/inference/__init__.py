"""Upmixing: audio I/O, resampling, windowing, rendering, the pipeline and the `upmix` / `info` commands."""

from .audio_io import AudioError, AudioFile, read_audio, write_audio
from .output import UpmixOutput
from .pipeline import Mono2StereoPipeline, load_model, load_pipeline, upmix
from .rendering import RENDER_MODES

__all__ = [
    "AudioError",
    "AudioFile",
    "read_audio",
    "write_audio",
    "UpmixOutput",
    "Mono2StereoPipeline",
    "load_model",
    "load_pipeline",
    "upmix",
    "RENDER_MODES",
]
