"""mono2stereo: AI mono-to-stereo music upmixing."""

__version__ = "0.1.0.dev0"

from .modeling import Mono2StereoConfig, Mono2StereoModel  # noqa: E402  (registers the Auto classes)

__all__ = ["__version__", "Mono2StereoConfig", "Mono2StereoModel", "Mono2StereoPipeline", "mix", "upmix"]

_INFERENCE_NAMES = ("Mono2StereoPipeline", "upmix")


def __getattr__(name: str):
    # The upmix pipeline (audio I/O, resampling) loads on first use, keeping `import mono2stereo` light.
    if name in _INFERENCE_NAMES:
        from . import inference

        return getattr(inference, name)
    if name == "mix":  # stems in, a stereo mix out
        from .mixing import mix

        return mix
    raise AttributeError(f"module 'mono2stereo' has no attribute {name!r}")
