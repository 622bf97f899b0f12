"""mono2stereo: AI mono-to-stereo music upmixing."""

__version__ = "0.1.0.dev0"
