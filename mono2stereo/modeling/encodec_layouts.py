"""The EnCodec stereo codecs: what an EnCodec model's token stream means, one class per channel layout.

An EnCodec model's tokens are two signals of the stereo, each coded apart by the mono codec and interleaved as
codebooks `[1A, 1B, 2A, 2B, ...]`. The layout (`Mono2StereoConfig.channel_layout`) says which two:

- `left-right` (`LeftRightCodec`): L and R, as MusicGen stereo;
- `mid-side` (`MidSideCodec`): the mid `(L + R) / 2`, which is the mono fold itself, so its codes are the mono's
  and are set rather than generated, and the side `(L - R) / 2`.

Each class owns everything a layout decides: stereo to the two signals and back (through `mono2stereo.audio`),
codes and back, the codebooks the mono fixes, a left/right swap acting on codes, the token counts and the label of a
model card. The spatial kind has the same interface in `SpatialCodec`; `stereo_codec_for` gives a config's codec.
Nothing outside this module branches on a layout's name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import numpy as np
import torch
from transformers import EncodecModel

from ..audio import CHANNELS_FIRST, fold, from_mid_side, left_right, mid_side, side
from .codec import decode_mono, encode_mono, interleave_channels, split_channels
from .spatial_codec import SpatialCodec

if TYPE_CHECKING:
    from .configuration import Mono2StereoConfig

Codes = torch.Tensor | np.ndarray  # a token shard's rows are numpy, a batch's are tensors


def check_stereo(audio: torch.Tensor) -> None:
    """Raise a ValueError unless `audio` is stereo shaped `(batch, 2, samples)`."""
    if audio.dim() != 3 or audio.shape[1] != 2:
        raise ValueError(f"expected stereo audio shaped (batch, 2, samples), got {tuple(audio.shape)}")


class EncodecStereoCodec:
    """Two signals of the stereo coded apart by the model's mono EnCodec and interleaved; a subclass is a layout.

    Made from the model's config and its codec; made from the config alone it answers everything but the audio
    conversions (token counts, fixed codebooks, swaps on codes, labels), which is what a token stream needs.
    """

    layout: ClassVar[str]  # the `channel_layout` value of the config
    card_label: ClassVar[str]  # the pair of signals, as a model card says it
    needs_mirrored_codes: ClassVar[bool] = False  # a swap needs codes the tokens cannot give (`mirrored_codes`)

    def __init__(self, config: Mono2StereoConfig, codec: EncodecModel | None = None):
        self.config, self._codec = config, codec

    @property
    def codec(self) -> EncodecModel:
        """The EnCodec the signals are coded with."""
        if self._codec is None:
            raise ValueError(
                f"this {type(self).__name__} was made from a config alone and has no codec to code audio with; "
                "use model.stereo_codec, or pass the codec to stereo_codec_for(config, codec)"
            )
        return self._codec

    # ----- token counts and labels -----

    @property
    def num_codebooks(self) -> int:
        """Codebooks per coded signal (at the config's bandwidth)."""
        return self.config.num_codebooks

    @property
    def num_stereo_codebooks(self) -> int:
        """Codebooks of the token stream: two per codebook of the mono codec."""
        return 2 * self.num_codebooks

    @property
    def fixed_codebooks(self) -> torch.Tensor:
        """`(stereo_codebooks,)` True for the codebooks that are the mono's own codes, set rather than sampled."""
        return torch.zeros(self.num_stereo_codebooks, dtype=torch.bool)

    @property
    def summary(self) -> str:
        """One line on what the tokens are, for `mono2stereo info` and model cards."""
        config = self.config
        return (
            f"EnCodec: {self.num_codebooks} codebooks x {config.codebook_size} per channel at "
            f"{config.codec_bandwidth:g} kbps; {self.num_stereo_codebooks} stereo codebooks"
        )

    @property
    def card_description(self) -> str:
        """What the model generates, as a sentence of the model card."""
        return (
            f"paired {self.card_label} EnCodec tokens. The output's mid signal is the input itself (keep-mid "
            "rendering); the model supplies the side."
        )

    card_limitation: ClassVar[str] = (
        "Quality is bounded by the codec; the input is kept untouched in the mid, so codec artefacts only reach the "
        "side."
    )

    def card_codec_line(self, codec: str | None) -> str:
        """The codec as the model card's table names it: the checkpoint it came from (a Hub id or path in code
        font, a description as it is), if known."""
        if not codec:
            return "a custom EnCodec"
        return codec if " " in codec else f"`{codec}`"

    # ----- audio <-> signals <-> codes -----

    def signals(self, audio: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The two signals `(batch, samples)` of stereo `(batch, 2, samples)` that the layout codes."""
        raise NotImplementedError

    def stereo(self, first: torch.Tensor, second: torch.Tensor) -> torch.Tensor:
        """Stereo `(batch, 2, samples)` from the layout's two signals (the inverse of `signals`)."""
        raise NotImplementedError

    def encode_mono(self, mono: torch.Tensor) -> torch.Tensor:
        """Mono audio `(batch, samples)` to codes `(batch, codebooks, frames)`: the model's conditioning."""
        return encode_mono(self.codec, mono, self.config.codec_bandwidth)

    def encode_stereo(self, audio: torch.Tensor) -> torch.Tensor:
        """Stereo `(batch, 2, samples)` to its tokens `(batch, stereo_codebooks, frames)`."""
        check_stereo(audio)
        return interleave_channels(*self.encode_mono(torch.cat(self.signals(audio))).chunk(2))

    def encode_both(self, audio: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Stereo `(batch, 2, samples)` to a training pair: the mono's codes and the stereo's tokens, coded at once."""
        check_stereo(audio)
        mono, first, second = self.encode_mono(torch.cat([fold(audio, CHANNELS_FIRST), *self.signals(audio)])).chunk(3)
        return mono, interleave_channels(first, second)

    def decode_stereo(self, codes: torch.Tensor, num_samples: int | None = None) -> torch.Tensor:
        """Tokens `(batch, stereo_codebooks, frames)` to L/R audio `(batch, 2, samples)`, trimmed to `num_samples`."""
        both = decode_mono(self.codec, torch.cat(split_channels(codes)), num_samples)
        return self.stereo(*both.chunk(2))

    # ----- left/right swap -----

    def mirrored_codes(self, audio: torch.Tensor) -> torch.Tensor:
        """The codes a swap needs besides the tokens, for a layout with `needs_mirrored_codes`."""
        raise ValueError(f"the {self.layout} layout swaps left and right on its tokens alone; no mirrored codes")

    def swap_channels(self, codes: Codes, mirrored_codes: Codes | None = None) -> Codes:
        """The tokens `(..., stereo_codebooks, frames)` of the same stereo with left and right exchanged."""
        raise NotImplementedError


class LeftRightCodec(EncodecStereoCodec):
    """The `left-right` layout: L and R coded apart, `[1L, 1R, 2L, 2R, ...]`."""

    layout = "left-right"
    card_label = "left/right"

    def signals(self, audio: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Left and right `(batch, samples)`."""
        return left_right(audio, CHANNELS_FIRST)

    def stereo(self, first: torch.Tensor, second: torch.Tensor) -> torch.Tensor:
        """Left and right stacked into `(batch, 2, samples)`."""
        return torch.stack([first, second], dim=CHANNELS_FIRST)

    def swap_channels(self, codes: Codes, mirrored_codes: Codes | None = None) -> Codes:
        """Every pair `kL, kR` of codebooks trades places."""
        order = np.arange(codes.shape[-2]).reshape(-1, 2)[:, ::-1].flatten()
        if torch.is_tensor(codes):
            return codes[..., torch.from_numpy(order).to(codes.device), :]
        return codes[..., order, :]


class MidSideCodec(EncodecStereoCodec):
    """The `mid-side` layout: `[1M, 1S, 2M, 2S, ...]`; the mid is the mono fold, so its codes are the mono's."""

    layout = "mid-side"
    card_label = "mid/side"
    # Swapping L and R negates the side, and a codec's codes of -S are no rearrangement of those of S.
    needs_mirrored_codes = True

    def signals(self, audio: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The mid `(L + R) / 2` and the side `(L - R) / 2`, `(batch, samples)` each."""
        return mid_side(audio, CHANNELS_FIRST)

    def stereo(self, first: torch.Tensor, second: torch.Tensor) -> torch.Tensor:
        """`L, R = M + S, M - S` as `(batch, 2, samples)`."""
        return from_mid_side(first, second, CHANNELS_FIRST)

    @property
    def fixed_codebooks(self) -> torch.Tensor:
        """The mid's codebooks `1M, 2M, ...`: the mono's own codes."""
        fixed = super().fixed_codebooks
        fixed[0::2] = True
        return fixed

    def encode_both(self, audio: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The mono's codes and the tokens; the mid is the mono itself, coded once."""
        check_stereo(audio)
        mono, side_codes = self.encode_mono(torch.cat(self.signals(audio))).chunk(2)
        return mono, interleave_channels(mono, side_codes)

    def mirrored_codes(self, audio: torch.Tensor) -> torch.Tensor:
        """The codes `(batch, codebooks, frames)` of the side of `audio (batch, 2, samples)` with L and R swapped:
        `-S`. A token shard stores them for the stream to swap examples with (`swap_channels`)."""
        check_stereo(audio)
        return self.encode_mono(-side(audio, CHANNELS_FIRST))

    def swap_channels(self, codes: Codes, mirrored_codes: Codes | None = None) -> Codes:
        """The mid's codebooks stay; the side's become `mirrored_codes (..., codebooks, frames)`, the codes of -S."""
        if mirrored_codes is None:
            raise ValueError(
                "a mid-side swap needs the codes of the mirrored side (-S), which codes of S cannot give: "
                "pass mirrored_codes (token shards store them as mirrored_side_codes; tokenize again to get them)"
            )
        swapped = codes.clone() if torch.is_tensor(codes) else codes.copy()
        swapped[..., 1::2, :] = mirrored_codes
        return swapped


ENCODEC_LAYOUTS: dict[str, type[EncodecStereoCodec]] = {kind.layout: kind for kind in (LeftRightCodec, MidSideCodec)}
CHANNEL_LAYOUTS = tuple(ENCODEC_LAYOUTS)
DEFAULT_LAYOUT = LeftRightCodec.layout


def stereo_codec_for(
    config: Mono2StereoConfig, codec: EncodecModel | SpatialCodec | None = None
) -> EncodecStereoCodec | SpatialCodec:
    """The stereo codec of a config: its EnCodec layout's (on `codec`, the model's EnCodec, when given) or the
    spatial codec (`codec` itself, or a new one: it has no weights)."""
    if config.is_spatial:
        return codec if codec is not None else SpatialCodec(config.codec)
    if config.channel_layout not in ENCODEC_LAYOUTS:
        raise ValueError(
            f"unknown channel layout {config.channel_layout!r}; choose one of {', '.join(CHANNEL_LAYOUTS)}"
        )
    return ENCODEC_LAYOUTS[config.channel_layout](config, codec)


__all__ = [
    "EncodecStereoCodec",
    "LeftRightCodec",
    "MidSideCodec",
    "ENCODEC_LAYOUTS",
    "CHANNEL_LAYOUTS",
    "DEFAULT_LAYOUT",
    "stereo_codec_for",
    "check_stereo",
]
