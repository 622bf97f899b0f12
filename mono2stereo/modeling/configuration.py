"""`Mono2StereoConfig`: every hyperparameter of the upmixer, with the codec's config inside it."""

from __future__ import annotations

import math
from typing import ClassVar

from huggingface_hub.dataclasses import strict
from transformers import AutoConfig, EncodecConfig, PreTrainedConfig
from transformers.configuration_utils import SubConfigSpec

from .delay_pattern import stereo_delays
from .encodec_layouts import CHANNEL_LAYOUTS, DEFAULT_LAYOUT, EncodecStereoCodec, stereo_codec_for
from .spatial_codec import SpatialCodec, SpatialCodecConfig

AutoConfig.register(SpatialCodecConfig.model_type, SpatialCodecConfig, exist_ok=True)
SPATIAL_LAYOUT = "spatial"  # the channel layout of a spatial codec: cues of the stereo image, not two signals

DEFAULT_STYLES = ("modern", "vintage", "wide", "narrow")
UNCONDITIONAL_STYLE = "<unconditional>"
_INTEGER_FIELDS = (
    "hidden_size",
    "num_encoder_layers",
    "num_decoder_layers",
    "num_attention_heads",
    "intermediate_size",
    "window_frames",
)


# Sane limits, far above any model that trains on today's hardware, so a typo fails at once instead of allocating.
MIN_SAMPLING_RATE, MAX_SAMPLING_RATE = 1000, 384_000
MAX_CODEBOOK_SIZE = 1 << 16
UPPER_BOUNDS = {
    "hidden_size": 16_384,
    "num_encoder_layers": 256,
    "num_decoder_layers": 256,
    "num_attention_heads": 1024,
    "intermediate_size": 131_072,
    "window_frames": 100_000,
}
MAX_PARAMETERS = 20e9


def _fail(field: str, value, expected: str) -> None:
    raise ValueError(f"Mono2StereoConfig.{field}={value!r} is invalid: {expected}")


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_positive(value) -> bool:
    return _is_number(value) and math.isfinite(value) and value > 0


@strict
class Mono2StereoConfig(PreTrainedConfig):
    r"""
    The configuration of a [`Mono2StereoModel`].

    The sample rate, frame rate and codebook count are properties read from `codec` (an `EncodecConfig`), never
    stored twice.

    Args:
        codec (`EncodecConfig`, `SpatialCodecConfig` or `dict`): the codec whose tokens the model writes. An
            EnCodec codec (the model reads the mono's codes and writes two coded signals) must be mono
            (`audio_channels=1`) and encode in one chunk (`chunk_length_s=None`). A spatial codec
            (`model_type: mono2stereo-spatial-codec`) makes the model read features of the full-resolution mono
            and write per-band level-difference and coherence tokens, decoded against the input.
        codec_bandwidth (`float`, *optional*): the codec bandwidth in kbps that sets how many codebooks are used;
            one of `codec.target_bandwidths`. Defaults to the largest.
        channel_layout (`str`): the two signals coded per stereo example: `left-right` (L and R, as MusicGen
            stereo) or `mid-side` (the mid `(L + R) / 2`, whose codes are the mono's own, and the side
            `(L - R) / 2`), each a class of `encodec_layouts` (`stereo_codec`). A coarse codec collapses the
            small differences between L and R onto the same codes; coding the side itself keeps it (see
            benchmarks/RESULTS.md, "Codec bound"). A spatial codec's layout is always `"spatial"`.
        hidden_size (`int`): width of the mono encoder and of the stereo decoder.
        num_encoder_layers (`int`): depth of the non-causal encoder over the mono frames.
        num_decoder_layers (`int`): depth of the causal decoder over the stereo tokens.
        num_attention_heads (`int`): attention heads in every layer; must divide `hidden_size`.
        intermediate_size (`int`, *optional*): width of the feed-forward layers. Defaults to `4 * hidden_size`.
        window_frames (`int`): length of one generation window in codec frames.
        styles (`list[str]`): named mixing styles the model can be asked for. An unconditional tag is added
            internally for classifier-free guidance.
        width_db_range (`list[float]`): the range (low, high) of the width control, the side-to-mid energy ratio in
            dB; values outside are clamped.
        dropout (`float`): dropout on residual branches.
        attention_dropout (`float`): dropout on attention weights.
        condition_dropout (`float`): probability, while training, of replacing the style and width with the
            unconditional ones, so classifier-free guidance can be used.
        context_dropout (`float`): probability, while training, of replacing each of the decoder's input tokens
            (the previous stereo tokens of teacher forcing) with the special token, so the model must read the mono
            and its conditions instead of continuing its context; 0 (the default) leaves teacher forcing as it is,
            and 1 makes the model context-free (`context_free`): each window is then generated in one pass.
        width_head_weight (`float`): weight, in the training loss, of a width head that predicts the target's width
            (side-to-mid in dB) from the encoded mono; 0 (the default) builds no head. With a head the mono encoder
            reads the mono and the style only (the width condition enters at the decoder); `generate` asked for
            no width asks for the head's prediction for each window, and the pipeline asks every window for the
            width the head predicts for the whole song and makes the song that wide.
        initializer_range (`float`): standard deviation of the normal initialisation.
        random_mirror (`bool`): at inference, an EnCodec model's generated stereo is mirrored (L and R swapped, the
            side negated) for the seeds whose first draw says so, half of them: a mono input says nothing about
            which side a source was on, so over seeds no side is favoured even when the model leans to one (the
            default model leans left in its own L/R; see benchmarks/RESULTS.md). A model shown to be balanced can
            turn it off. Not used by spatial models.
    """

    model_type: ClassVar[str] = "mono2stereo"
    sub_configs_defaults = {"codec": SubConfigSpec(config_class=AutoConfig, model_type="encodec")}

    codec: dict | PreTrainedConfig | None = None
    codec_bandwidth: float | None = None
    channel_layout: str = DEFAULT_LAYOUT
    hidden_size: int = 512
    num_encoder_layers: int = 4
    num_decoder_layers: int = 8
    num_attention_heads: int = 8
    intermediate_size: int | None = None
    window_frames: int = 500
    styles: list[str] | tuple[str, ...] = DEFAULT_STYLES
    width_db_range: list[float] | tuple[float, ...] = (-40.0, 6.0)
    dropout: float = 0.1
    attention_dropout: float = 0.0
    condition_dropout: float = 0.1
    context_dropout: float = 0.0
    width_head_weight: float = 0.0
    initializer_range: float = 0.02
    random_mirror: bool = True

    def __post_init__(self, **kwargs):
        super().__post_init__(**kwargs)
        self._check_types()
        self.styles = list(self.styles)
        self.width_db_range = [float(value) for value in self.width_db_range]
        if self.intermediate_size is None:
            self.intermediate_size = 4 * self.hidden_size
        if self.is_spatial:
            self.channel_layout = SPATIAL_LAYOUT
            self.codec_bandwidth = None
        elif self.codec_bandwidth is None and isinstance(self.codec, EncodecConfig):
            self.codec_bandwidth = float(max(self.codec.target_bandwidths))
        self._check_values()

    def _check_types(self) -> None:
        """The checks every later computation relies on: the codec's numbers, and list fields being lists."""
        if not isinstance(self.codec, (EncodecConfig, SpatialCodecConfig)):
            _fail(
                "codec",
                type(self.codec).__name__,
                "an EncodecConfig (model_type 'encodec') or a SpatialCodecConfig "
                f"(model_type {SpatialCodecConfig.model_type!r}) is required",
            )
        codec = self.codec
        if not _is_int(codec.sampling_rate) or not MIN_SAMPLING_RATE <= codec.sampling_rate <= MAX_SAMPLING_RATE:
            _fail(
                "codec.sampling_rate",
                codec.sampling_rate,
                f"an integer in Hz from {MIN_SAMPLING_RATE} to {MAX_SAMPLING_RATE}",
            )
        if not self.is_spatial:  # a spatial codec's config checks its own fields
            ratios = codec.upsampling_ratios
            if not isinstance(ratios, (list, tuple)) or not ratios or not all(_is_int(r) and r >= 1 for r in ratios):
                _fail("codec.upsampling_ratios", ratios, "a non-empty list of positive integers")
            if math.prod(ratios) > codec.sampling_rate:
                _fail(
                    "codec.upsampling_ratios",
                    ratios,
                    f"their product (the hop) exceeds the rate {codec.sampling_rate}",
                )
            if not _is_int(codec.codebook_size) or not 2 <= codec.codebook_size <= MAX_CODEBOOK_SIZE:
                _fail("codec.codebook_size", codec.codebook_size, f"an integer from 2 to {MAX_CODEBOOK_SIZE}")
            bandwidths = codec.target_bandwidths
            if not isinstance(bandwidths, (list, tuple)) or not bandwidths or not all(map(_is_positive, bandwidths)):
                _fail("codec.target_bandwidths", bandwidths, "a non-empty list of positive kbps values")
        if not isinstance(self.styles, (list, tuple)) or not all(isinstance(t, str) and t for t in self.styles):
            _fail("styles", self.styles, 'a list of style tags, e.g. ["modern", "vintage"]')
        low_high = self.width_db_range
        if not isinstance(low_high, (list, tuple)) or not all(_is_number(v) and math.isfinite(v) for v in low_high):
            _fail("width_db_range", low_high, "a list [low, high] of numbers in dB")

    def estimated_parameters(self) -> int:
        """The transformer's parameter count from the config alone, to refuse absurd sizes before allocating."""
        hidden, inner, vocabulary = self.hidden_size, self.intermediate_size, self.codebook_size + 1
        per_layer = 4 * hidden * hidden + 2 * hidden * inner + 9 * hidden
        layers = (self.num_encoder_layers + self.num_decoder_layers) * per_layer
        mono = self.num_mono_channels * (1 if self.is_spatial else vocabulary) * hidden
        stereo = self.num_stereo_codebooks * (vocabulary + self.codebook_size) * hidden  # embeddings and heads
        return layers + mono + stereo

    def _check_values(self) -> None:
        fail = _fail

        if not self.is_spatial:
            if self.codec.audio_channels != 1:
                fail(
                    "codec.audio_channels",
                    self.codec.audio_channels,
                    "the codec must be mono; signals are coded apart",
                )
            if self.codec.chunk_length_s is not None:
                fail("codec.chunk_length_s", self.codec.chunk_length_s, "codecs that encode in chunks are unsupported")
            if self.codec_bandwidth not in [float(b) for b in self.codec.target_bandwidths]:
                fail("codec_bandwidth", self.codec_bandwidth, f"must be one of {list(self.codec.target_bandwidths)}")
            if self.channel_layout not in CHANNEL_LAYOUTS:
                fail("channel_layout", self.channel_layout, f"must be one of {', '.join(CHANNEL_LAYOUTS)}")
        for field in _INTEGER_FIELDS:
            value = getattr(self, field)
            if not isinstance(value, int) or isinstance(value, bool):
                fail(field, value, "must be an integer")
        for field in (
            "dropout",
            "attention_dropout",
            "condition_dropout",
            "context_dropout",
            "width_head_weight",
            "initializer_range",
        ):
            if not isinstance(getattr(self, field), (int, float)):
                fail(field, getattr(self, field), "must be a number")
        for field in _INTEGER_FIELDS:
            if field != "num_encoder_layers" and getattr(self, field) < 1:
                fail(field, getattr(self, field), "must be a positive integer")
        if self.num_encoder_layers < 0:
            fail("num_encoder_layers", self.num_encoder_layers, "must be 0 or more")
        for field, bound in UPPER_BOUNDS.items():
            if getattr(self, field) > bound:
                fail(field, getattr(self, field), f"must be at most {bound:,}")
        if self.estimated_parameters() > MAX_PARAMETERS:
            fail(
                "hidden_size",
                self.hidden_size,
                f"with these sizes the transformer would have about {self.estimated_parameters():.3g} parameters, "
                f"more than {MAX_PARAMETERS:.0e}",
            )
        if self.hidden_size % self.num_attention_heads:
            fail("num_attention_heads", self.num_attention_heads, f"must divide hidden_size={self.hidden_size}")
        if not self.styles:
            fail("styles", self.styles, "give at least one style tag")
        if len(set(self.styles)) != len(self.styles) or UNCONDITIONAL_STYLE in self.styles:
            fail("styles", self.styles, f"tags must be unique and not {UNCONDITIONAL_STYLE!r}")
        low_high = self.width_db_range
        if len(low_high) != 2 or not low_high[0] < low_high[1]:
            fail("width_db_range", low_high, "must be [low, high] with low < high")
        for field in ("dropout", "attention_dropout", "condition_dropout"):
            if not 0.0 <= getattr(self, field) < 1.0:
                fail(field, getattr(self, field), "must be in [0, 1)")
        if not 0.0 <= self.context_dropout <= 1.0:
            fail("context_dropout", self.context_dropout, "must be in [0, 1] (1: context-free)")
        if self.width_head_weight < 0:
            fail("width_head_weight", self.width_head_weight, "must be 0 (no width head) or more")
        if self.initializer_range <= 0:
            fail("initializer_range", self.initializer_range, "must be positive")
        if not isinstance(self.random_mirror, bool):
            fail("random_mirror", self.random_mirror, "must be true or false")

    @property
    def is_spatial(self) -> bool:
        """Whether the model writes a spatial codec's cue tokens (else two EnCodec-coded signals)."""
        return isinstance(self.codec, SpatialCodecConfig)

    @property
    def context_free(self) -> bool:
        """Whether training hid every context token (`context_dropout` 1): the decoder has only ever read the mono
        and its conditions, so generation predicts a whole window in one pass (`generation.predict_positions`)."""
        return self.context_dropout >= 1.0

    @property
    def has_width_head(self) -> bool:
        """Whether the model predicts the width from the mono (`width_head_weight` > 0)."""
        return self.width_head_weight > 0

    @property
    def sampling_rate(self) -> int:
        """Audio sample rate of the codec, in Hz."""
        return self.codec.sampling_rate

    @property
    def frame_rate(self) -> float:
        """Codec frames per second."""
        return self.codec.sampling_rate / self.codec.hop_length

    @property
    def hop_length(self) -> int:
        """Audio samples per codec frame."""
        return self.codec.hop_length

    @property
    def codebook_size(self) -> int:
        """Entries in each codebook; also the id of the special (padding / start) token."""
        return self.codec.codebook_size

    @property
    def num_codebooks(self) -> int:
        """Codebooks per coded signal at `codec_bandwidth` (EnCodec), or the spatial codec's codebooks (bands)."""
        if self.is_spatial:
            return self.codec.num_codebooks
        # The same rule as the codec's quantizer uses to pick its number of codebooks.
        bits_per_frame = math.log2(self.codec.codebook_size) * self.codec.frame_rate
        return max(1, int(math.floor(self.codec_bandwidth * 1000 / bits_per_frame)))

    @property
    def stereo_codec(self) -> EncodecStereoCodec | SpatialCodec:
        """What the tokens mean, without the codec's weights: an `EncodecStereoCodec` of the channel layout, or a
        `SpatialCodec` (`encodec_layouts.stereo_codec_for`)."""
        return stereo_codec_for(self)

    @property
    def num_stereo_codebooks(self) -> int:
        """Codebooks of the generated stream: `[1L, 1R, 2L, 2R, ...]` (EnCodec), one per band (spatial)."""
        return self.stereo_codec.num_stereo_codebooks

    @property
    def codec_summary(self) -> str:
        """One line on what the generated tokens are, for `mono2stereo info` and model cards."""
        return self.stereo_codec.summary

    @property
    def delays(self) -> list[int]:
        """The delay in frames of each generated codebook."""
        return self.codec.delays if self.is_spatial else stereo_delays(self.num_stereo_codebooks)

    @property
    def num_mono_channels(self) -> int:
        """Rows of the mono conditioning `(batch, rows, frames)`: codebooks (EnCodec) or feature bands (spatial)."""
        return self.codec.num_feature_bands if self.is_spatial else self.num_codebooks

    @property
    def special_token_id(self) -> int:
        """Token id used for positions the delay pattern leaves empty and to start the sequence."""
        return self.codec.codebook_size

    @property
    def window_seconds(self) -> float:
        """Length of one generation window in seconds."""
        return self.window_frames / self.frame_rate

    def style_id(self, style: str | None) -> int:
        """Index of a style tag in the style embedding; `None` is the unconditional tag."""
        if style is None:
            return len(self.styles)
        if style not in self.styles:
            raise ValueError(f"unknown style {style!r}; this model knows {', '.join(self.styles)}")
        return self.styles.index(style)


__all__ = ["Mono2StereoConfig", "DEFAULT_STYLES", "UNCONDITIONAL_STYLE"]
