"""Upmixing: audio I/O, resampling, windowing, rendering, the pipeline and the `upmix` / `info` commands."""

import importlib

# Each name loads its module on first use, so the command line can read its arguments before torch is imported.
_LAZY_NAMES = {
    "AudioError": "audio_io",
    "AudioFile": "audio_io",
    "AudioWriter": "audio_io",
    "read_audio": "audio_io",
    "write_audio": "audio_io",
    "UpmixOutput": "output",
    "Mono2StereoPipeline": "pipeline",
    "load_model": "pipeline",
    "load_pipeline": "pipeline",
    "upmix": "pipeline",
    "DEFAULT_RENDER": "render_modes",
    "RENDER_ALIASES": "render_modes",
    "RENDER_MODES": "render_modes",
    "render_mode": "render_modes",
    "Upmixer": "upmixer",
}

__all__ = list(_LAZY_NAMES)


def __getattr__(name: str):
    if name in _LAZY_NAMES:
        return getattr(importlib.import_module(f".{_LAZY_NAMES[name]}", __name__), name)
    raise AttributeError(f"module 'mono2stereo.inference' has no attribute {name!r}")
