"""mono2stereo: AI mono-to-stereo music upmixing."""

__version__ = "0.1.0.dev0"

from .modeling import Mono2StereoConfig, Mono2StereoModel  # noqa: E402  (registers the Auto classes)

__all__ = ["__version__", "Mono2StereoConfig", "Mono2StereoModel"]
