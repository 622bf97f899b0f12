"""The model: config, codec adapter, delay pattern, transformer, generation and Hub publishing."""

from transformers import AutoConfig, AutoModel

from .codec import randomize_codebooks, tiny_codec_config
from .configuration import Mono2StereoConfig
from .delay_pattern import apply_delay_pattern, revert_delay_pattern, stereo_delays
from .generation import generate_stereo_codes
from .hub import build_model_card
from .model import Mono2StereoModel, Mono2StereoOutput, stereo_width_db
from .tiny import tiny_config, tiny_model

AutoConfig.register(Mono2StereoConfig.model_type, Mono2StereoConfig, exist_ok=True)
AutoModel.register(Mono2StereoConfig, Mono2StereoModel, exist_ok=True)

__all__ = [
    "Mono2StereoConfig",
    "Mono2StereoModel",
    "Mono2StereoOutput",
    "generate_stereo_codes",
    "build_model_card",
    "apply_delay_pattern",
    "revert_delay_pattern",
    "stereo_delays",
    "tiny_codec_config",
    "randomize_codebooks",
    "tiny_config",
    "tiny_model",
    "stereo_width_db",
]
