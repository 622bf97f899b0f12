"""Training: stereo data sources, synthetic mixes, preprocessing, the accelerate loop, style fine-tuning and the codec.

Needs the `train` extra (`pip install mono2stereo[train]`): accelerate, datasets, peft, pyyaml, tensorboard.
"""

import importlib

# Each name loads its module on first use, so the training commands can read their arguments before torch is
# imported.
_LAZY_NAMES = {
    "TrainingConfig": "config",
    "DataConfig": "config",
    "SourceConfig": "config",
    "ModelSource": "config",
    "SyntheticMixes": "synthetic",
    "MIXING_STYLES": "synthetic",
}

__all__ = list(_LAZY_NAMES)


def __getattr__(name: str):
    if name in _LAZY_NAMES:
        return getattr(importlib.import_module(f".{_LAZY_NAMES[name]}", __name__), name)
    raise AttributeError(f"module 'mono2stereo.training' has no attribute {name!r}")
