"""mono2stereo: AI mono-to-stereo music upmixing."""

__version__ = "0.1.0.dev0"

__all__ = ["__version__", "Mono2StereoConfig", "Mono2StereoModel", "Mono2StereoPipeline", "mix", "upmix"]

# Where each public name lives. They load on first use, so `import mono2stereo` and `mono2stereo --help` stay fast
# (torch and transformers take seconds to import); touching `Mono2StereoConfig` or `Mono2StereoModel`, or
# importing `mono2stereo.modeling`, registers the Auto classes with transformers.
_LAZY_NAMES = {
    "Mono2StereoConfig": "modeling",
    "Mono2StereoModel": "modeling",
    "Mono2StereoPipeline": "inference",
    "upmix": "inference",
    "mix": "mixing",  # stems in, a stereo mix out
}


def __getattr__(name: str):
    if name in _LAZY_NAMES:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY_NAMES[name]}", __name__), name)
    raise AttributeError(f"module 'mono2stereo' has no attribute {name!r}")
