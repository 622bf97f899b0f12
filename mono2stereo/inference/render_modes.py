"""The names of the render modes (see `rendering`), importable without torch so the command line starts fast."""

RENDER_MODES = ("mid-side", "codec", "parametric")

__all__ = ["RENDER_MODES"]
