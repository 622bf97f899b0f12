"""Training of the small EnCodec-architecture codec: made-up training audio, residual-VQ learning and losses.

Launch: `mono2stereo train-codec --config configs/codec/small-24k.yaml --output-dir outputs/codec`
"""

from .config import CodecTrainingConfig
from .data import CodecCrops, mono_view
from .losses import CodecReconstructionLoss, LogMelSpectrogram, MultiResolutionStftLoss
from .midi import midi_bytes, random_general_midi
from .quality import codec_round_trip, log_mel_distance
from .quantizer import ResidualQuantizerTraining, kmeans, nearest_codes
from .render import general_midi_renders, render_midi
from .synthesis import synthetic_stereo_clip
from .train import CodecTrainer, build_codec, train_codec

__all__ = [
    "CodecTrainingConfig",
    "CodecCrops",
    "mono_view",
    "CodecReconstructionLoss",
    "LogMelSpectrogram",
    "MultiResolutionStftLoss",
    "midi_bytes",
    "random_general_midi",
    "codec_round_trip",
    "log_mel_distance",
    "ResidualQuantizerTraining",
    "kmeans",
    "nearest_codes",
    "general_midi_renders",
    "render_midi",
    "synthetic_stereo_clip",
    "CodecTrainer",
    "build_codec",
    "train_codec",
]
