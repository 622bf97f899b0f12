"""From stereo audio to training examples: window crops, silence and near-mono skips, augmentation, codec encoding."""

from __future__ import annotations

import copy
import zlib
from collections import Counter
from collections.abc import Iterator

import numpy as np
import torch

from ..audio import CHANNELS_FIRST, fold
from ..modeling import Mono2StereoConfig, stereo_width_db
from ..modeling.encodec_layouts import EncodecStereoCodec, stereo_codec_for
from ..modeling.spatial_codec import SpatialCodec
from .config import DataConfig


def example_rng(seed: int, epoch: int, example_id: str) -> np.random.Generator:
    """The random generator of one example in one epoch: the same wherever a run starts or resumes."""
    return np.random.default_rng([seed, epoch, zlib.crc32(example_id.encode())])


def level_db(audio: np.ndarray) -> float:
    """RMS level of audio in dB relative to full scale."""
    return float(10 * np.log10(np.mean(np.square(audio, dtype=np.float64)) + 1e-12))


def width_db(audio: np.ndarray) -> float:
    """`stereo_width_db` of a `(2, samples)` numpy crop."""
    return float(stereo_width_db(torch.from_numpy(audio)))


def random_crops(audio: np.ndarray, length: int, count: int, rng: np.random.Generator) -> list[np.ndarray]:
    """`count` random crops `(2, length)` of `(2, samples)` audio; shorter audio is zero-padded at the end."""
    if audio.shape[-1] < length:
        audio = np.pad(audio, ((0, 0), (0, length - audio.shape[-1])))
    starts = rng.integers(0, audio.shape[-1] - length + 1, size=count)
    return [audio[:, start : start + length] for start in starts]


def augment(crop: np.ndarray, data: DataConfig, rng: np.random.Generator) -> np.ndarray:
    """Random left/right swap and gain, as set in the data config."""
    if rng.random() < data.swap_probability:
        crop = crop[::-1]
    gain = 10 ** (rng.uniform(*data.gain_db) / 20)
    return np.ascontiguousarray(crop * gain, dtype=np.float32)


def mono_fold(audio: torch.Tensor) -> torch.Tensor:
    """The mono mix `(L + R) / 2` of `(..., 2, samples)` audio."""
    return fold(audio, CHANNELS_FIRST)


def training_examples(
    example: dict,
    model_config: Mono2StereoConfig,
    data: DataConfig,
    rng: np.random.Generator,
    skipped: Counter,
) -> Iterator[dict]:
    """Crops of one source example ready for batching: `audio`, `style`, `id`, `width_db`.

    Silent crops (below `data.silence_db`) and near-mono crops (width below `data.min_width_db`) are counted in
    `skipped` and dropped.
    """
    length = model_config.window_frames * model_config.hop_length
    for number, crop in enumerate(random_crops(example["audio"], length, data.crops_per_example, rng)):
        if level_db(crop) < data.silence_db:
            skipped["silent"] += 1
            continue
        width = width_db(crop)
        if width < data.min_width_db:
            skipped["near_mono"] += 1
            continue
        crop = augment(crop, data, rng)
        yield {"audio": crop, "style": example["style"], "id": f"{example['id']}#{number}", "width_db": width}


def style_ids(styles: list[str | None], model_config: Mono2StereoConfig, skipped: Counter) -> torch.Tensor:
    """Style tags to embedding rows; tags the model does not know become unconditional and are counted."""
    ids = []
    for style in styles:
        if style is not None and style not in model_config.styles:
            skipped["unknown_style"] += 1
            style = None
        ids.append(model_config.style_id(style))
    return torch.tensor(ids, dtype=torch.long)


class CodecEncoder(torch.nn.Module):
    """The model's stereo codec on a frozen copy of its codec, turning stereo crops into mono and stereo codes on
    any device.

    A copy, so encoding works the same whether the model is wrapped by DDP, FSDP or DeepSpeed.
    """

    def __init__(self, model):
        super().__init__()
        self.codec = copy.deepcopy(model.codec).eval().requires_grad_(False)
        self.config = model.config

    @property
    def stereo_codec(self) -> EncodecStereoCodec | SpatialCodec:
        """The model's stereo codec (`Mono2StereoModel.stereo_codec`) on this copy of the codec."""
        return stereo_codec_for(self.config, self.codec)

    @torch.no_grad()
    def forward(self, audio: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Stereo audio `(batch, 2, samples)` to mono codes `(batch, K, F)` and stereo codes `(batch, 2K, F)`;
        for a spatial model, the mono's features `(batch, feature_bands, F)` and the cue tokens `(batch, bands, F)`.
        """
        return self.stereo_codec.encode_both(audio)

    @torch.no_grad()
    def mirrored_side_codes(self, audio: torch.Tensor) -> torch.Tensor:
        """Mid-side layout: the codes `(batch, K, F)` of the side of `audio (batch, 2, samples)` with L and R swapped
        (`MidSideCodec.mirrored_codes`), which a token shard stores for the stream's swaps (`TrainingStream`)."""
        return self.stereo_codec.mirrored_codes(audio)


__all__ = [
    "example_rng",
    "level_db",
    "width_db",
    "random_crops",
    "augment",
    "mono_fold",
    "training_examples",
    "style_ids",
    "CodecEncoder",
]
