"""The names of the render modes (see `rendering`), importable without torch so the command line starts fast.

`keep-mid` was called `mid-side` until that name also became a channel layout's (the mid/side EnCodec tokens); the
old name is still accepted everywhere a render mode is (`RENDER_ALIASES`) and means the same render.
"""

RENDER_MODES = ("keep-mid", "codec", "parametric")
DEFAULT_RENDER = "keep-mid"  # the output's mid is the input itself
RENDER_ALIASES = {"mid-side": "keep-mid"}


def render_mode(name: str) -> str:
    """The render mode `name` stands for (an alias gives its mode); a ValueError names the modes otherwise."""
    mode = RENDER_ALIASES.get(name, name)
    if mode not in RENDER_MODES:
        raise ValueError(f"unknown render mode {name!r}; choose one of {', '.join(RENDER_MODES)}")
    return mode


__all__ = ["DEFAULT_RENDER", "RENDER_ALIASES", "RENDER_MODES", "render_mode"]
