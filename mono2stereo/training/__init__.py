"""Training: stereo data sources, synthetic mixes, preprocessing, the accelerate loop, style fine-tuning and the codec.

Needs the `train` extra (`pip install mono2stereo[train]`): accelerate, datasets, peft, pyyaml, tensorboard.
"""

from .config import DataConfig, ModelSource, SourceConfig, TrainingConfig
from .synthetic import MIXING_STYLES, SyntheticMixes

__all__ = ["TrainingConfig", "DataConfig", "SourceConfig", "ModelSource", "SyntheticMixes", "MIXING_STYLES"]
