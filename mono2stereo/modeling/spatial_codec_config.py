"""`SpatialCodecConfig`: every number of the spatial codec (`spatial_codec`); an `rvq` tokenizer's fitted tables are
its only weights (`spatial_rvq`)."""

from __future__ import annotations

from typing import ClassVar

from huggingface_hub.dataclasses import strict
from transformers import PreTrainedConfig

# Quantisation grids. Level differences finer near the centre, where the ear resolves them best (as HE-AAC's
# parametric stereo grids); coherence finer near 1, where most real mixes sit.
ILD_LEVELS_DB = (0.0, 1.0, 2.0, 3.0, 4.5, 6.0, 8.0, 10.0, 12.5, 15.0, 18.0, 21.0, 25.0, 30.0, 35.0, 40.0)
# 1 - (k / 30)^2 for k = 30 .. 0: as many steps as the level differences, densest near 1, where a small change of
# coherence is a large change of diffuse energy (0.99 is a side 17 dB below the mid, 0.95 one 10 dB below).
COHERENCE_LEVELS = tuple(round(1 - (k / 30) ** 2, 6) for k in range(30, -1, -1))
TOKENIZERS = ("scalar", "rvq")
MAX_RVQ_CODEBOOKS = 64
MAX_RVQ_SIZE = 4096


@strict
class SpatialCodecConfig(PreTrainedConfig):
    r"""
    The spatial codec of a [`Mono2StereoModel`] that generates parametric-stereo cues instead of waveform codes.

    Args:
        sampling_rate (`int`): rate at which stereo is analysed and the mono's features are read, in Hz.
        hop_length (`int`): samples per cue frame at `sampling_rate`.
        frame_length (`int`): STFT window of the analysis at `sampling_rate` (a power of two).
        num_bands (`int`): ERB bands that carry cues, equally spaced on the ERB scale from `lowest_hz` to
            `highest_hz` (bins outside go to the first or last band).
        num_feature_bands (`int`): ERB bands of the mono's log-energy features.
        lowest_hz, highest_hz (`float`): the band range.
        ild_levels_db (`list[float]`): the non-negative level-difference grid in dB, mirrored for negative ones.
        coherence_levels (`list[float]`): the coherence grid, within [0, 1].
        bands_per_delay (`int`): bands whose codebooks share a delay: band `b` is delayed by `b // bands_per_delay`
            frames, so higher bands are generated knowing the lower ones of the same frame.
        smoothing_frames (`int`): the analysis averages band powers and cross-spectra over this many frames (odd)
            before forming the cues; a coherence measured on one frame of a band of few bins is always near 1.
        tokenizer (`str`): `scalar`, two codebooks per band on the fixed grids above, or `rvq`, a residual vector
            quantiser of each frame's cues of all bands, whose tables are fitted on training songs and saved with
            the model (`spatial_rvq`).
        rvq_codebooks (`int`): `rvq` only: residual stages, one codebook each; stage `k` is delayed by `k` frames.
        rvq_size (`int`): `rvq` only: entries of each stage's table.
        rvq_ild_scale_db (`float`): `rvq` only: level differences enter the quantised vector divided by this, so
            that this many dB weigh as much as a coherence step of 1.
    """

    model_type: ClassVar[str] = "mono2stereo-spatial-codec"

    sampling_rate: int = 32000
    hop_length: int = 800
    frame_length: int = 2048
    num_bands: int = 32
    num_feature_bands: int = 64
    lowest_hz: float = 50.0
    highest_hz: float = 16000.0
    ild_levels_db: list[float] | tuple[float, ...] = ILD_LEVELS_DB
    coherence_levels: list[float] | tuple[float, ...] = COHERENCE_LEVELS
    bands_per_delay: int = 8
    smoothing_frames: int = 5
    tokenizer: str = "scalar"
    rvq_codebooks: int = 8
    rvq_size: int = 1024
    rvq_ild_scale_db: float = 10.0

    def __post_init__(self, **kwargs):
        super().__post_init__(**kwargs)
        self.ild_levels_db = [float(v) for v in self.ild_levels_db]
        self.coherence_levels = [float(v) for v in self.coherence_levels]

        def fail(field: str, value, expected: str) -> None:
            raise ValueError(f"SpatialCodecConfig.{field}={value!r} is invalid: {expected}")

        for field in ("sampling_rate", "hop_length", "frame_length", "num_bands", "num_feature_bands"):
            value = getattr(self, field)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                fail(field, value, "must be a positive integer")
        if self.frame_length & (self.frame_length - 1) or self.frame_length < self.hop_length:
            fail("frame_length", self.frame_length, f"must be a power of two >= hop_length={self.hop_length}")
        if not 0 < self.lowest_hz < self.highest_hz <= self.sampling_rate / 2:
            fail("highest_hz", self.highest_hz, f"need 0 < lowest_hz < highest_hz <= {self.sampling_rate / 2}")
        levels = self.ild_levels_db
        if not levels or levels[0] != 0.0 or any(b <= a for a, b in zip(levels, levels[1:])):
            fail("ild_levels_db", levels, "must start at 0 and increase")
        coherence = self.coherence_levels
        if len(coherence) < 2 or any(b <= a for a, b in zip(coherence, coherence[1:])) or not 0 <= coherence[0]:
            fail("coherence_levels", coherence, "must increase within [0, 1]")
        if coherence[-1] > 1:
            fail("coherence_levels", coherence, "must increase within [0, 1]")
        if not isinstance(self.smoothing_frames, int) or self.smoothing_frames < 1 or self.smoothing_frames % 2 == 0:
            fail("smoothing_frames", self.smoothing_frames, "must be a positive odd integer")
        if not isinstance(self.bands_per_delay, int) or self.bands_per_delay < 1:
            fail("bands_per_delay", self.bands_per_delay, "must be a positive integer")
        if self.tokenizer not in TOKENIZERS:
            fail("tokenizer", self.tokenizer, f"must be one of {', '.join(TOKENIZERS)}")
        for field, low, high in (("rvq_codebooks", 1, MAX_RVQ_CODEBOOKS), ("rvq_size", 4, MAX_RVQ_SIZE)):
            value = getattr(self, field)
            if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
                fail(field, value, f"must be an integer from {low} to {high}")
        if not isinstance(self.rvq_ild_scale_db, (int, float)) or not self.rvq_ild_scale_db > 0:
            fail("rvq_ild_scale_db", self.rvq_ild_scale_db, "must be a positive number of dB")

    @property
    def frame_rate(self) -> float:
        """Cue frames per second."""
        return self.sampling_rate / self.hop_length

    @property
    def ild_grid_db(self) -> list[float]:
        """Every level-difference step, negative to positive."""
        positive = self.ild_levels_db[1:]
        return [-v for v in reversed(positive)] + [0.0] + positive

    @property
    def is_rvq(self) -> bool:
        """Whether the tokens are residual-VQ codes of the frame's cue vector (else scalar grid steps per band)."""
        return self.tokenizer == "rvq"

    @property
    def codebook_size(self) -> int:
        """Tokens per codebook: the larger grid's steps (the level-difference grid and the coherence grid), or
        `rvq_size`."""
        if self.is_rvq:
            return self.rvq_size
        return max(len(self.ild_grid_db), len(self.coherence_levels))

    @property
    def num_codebooks(self) -> int:
        """Two codebooks per band, its level difference and its coherence; or `rvq_codebooks`."""
        return self.rvq_codebooks if self.is_rvq else 2 * self.num_bands

    @property
    def delays(self) -> list[int]:
        """The delay of each codebook in frames: both codebooks of a band share it; residual stage `k` has `k`."""
        if self.is_rvq:
            return list(range(self.rvq_codebooks))
        return [(c // 2) // self.bands_per_delay for c in range(self.num_codebooks)]


__all__ = ["SpatialCodecConfig", "ILD_LEVELS_DB", "COHERENCE_LEVELS", "TOKENIZERS"]
