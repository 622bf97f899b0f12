"""The spatial codec: a stereo image as per-band level-difference and coherence cues, decoded against the mono.

Parametric stereo (Breebaart et al. 2005; for upmixing, Serrà et al. 2023). Per ERB band and frame, the stereo is
described by its inter-channel level difference (ILD, dB) and coherence (IC, 0..1), which need no waveform codec:

- `analyze(stereo)`: cues `(batch, frames, bands, 2)` of L/R at the codec's rate;
- `tokenize` / `detokenize`: with the `scalar` tokenizer two codebooks per band, `[1 ILD, 1 IC, 2 ILD, 2 IC, ...]`,
  each token the nearest point of a fixed grid; with `rvq`, `K` codebooks per frame, the stages of a residual vector
  quantiser of all bands' cues (`spatial_rvq`);
- `mono_features(mono)`: what the transformer hears of the input: log energies on finer ERB bands per frame;
- `synthesize(mono, cues, rate)`: stereo at any rate whose mid is the input exactly. Per band, the side is
  `S = alpha * M + beta * D`, with `D` the input through an all-pass decorrelator (never louder than the input in
  a band and frame, so transients stay out of it) and `(alpha, beta)` the unique pair that gives the cues;
  cues are interpolated between frames, so nothing zippers.

Every number is in `SpatialCodecConfig` (`spatial_codec_config`); the only weights are an `rvq` tokenizer's fitted
tables, buffers saved with the model.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterator
from typing import ClassVar

import numpy as np
import torch

from ..audio import CHANNELS_FIRST, fold, from_mid_side
from ..dsp.bands import band_edges_hz, band_of_bins
from ..dsp.decorrelators import schroeder_allpass
from .spatial_codec_config import COHERENCE_LEVELS, ILD_LEVELS_DB, SpatialCodecConfig
from .spatial_rvq import ResidualCueQuantizer

FEATURE_FLOOR_DB = -80.0  # mono features below the window's loudest band-frame by more than this are floored
SILENCE_FLOOR = 1e-10  # band energies below this are silence: no level difference, full coherence
SYNTHESIS_BLOCK_SECONDS = 20.0  # the side is made in blocks this long ...
SYNTHESIS_MARGIN_SECONDS = 0.5  # ... each read with this much on both sides (the decorrelator rings for 0.25 s)


def power(spectrum: torch.Tensor) -> torch.Tensor:
    """`|spectrum|^2` of a complex spectrum, without the square root that `abs` takes."""
    return spectrum.real.square() + spectrum.imag.square()


def cues_to_gains(cues: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """`(..., 2)` (ILD dB, IC) to the side gains `(alpha, beta)` of `S = alpha * M + beta * D` (D uncorrelated with
    the mid M and of its energy).

    With `r = (g - 1) / (g + 1)` for the power ratio `g` of L over R and `q = IC * sqrt(1 - r^2)`:
    `a = 2 / (1 + q)`, `alpha = a * r / 2`, `beta^2 = (1 - r^2) (1 - IC^2) / (1 + q)^2`.
    """
    ratio = torch.pow(10.0, cues[..., 0] / 10.0)
    r = (ratio - 1) / (ratio + 1)
    coherence = cues[..., 1].clamp(0.0, 1.0)
    root = (1 - r * r).clamp(min=0.0).sqrt()
    q = coherence * root
    alpha = r / (1 + q)
    beta = root * (1 - coherence * coherence).clamp(min=0.0).sqrt() / (1 + q)
    return alpha, beta


class SpatialCodec(torch.nn.Module):
    """Analysis, tokens and synthesis of `SpatialCodecConfig`; see the module docstring. Its only weights are the
    `rvq` tables (`self.rvq`, None for the scalar tokenizer)."""

    def __init__(self, config: SpatialCodecConfig):
        super().__init__()
        self.config = config
        self.rvq = ResidualCueQuantizer(config) if config.is_rvq else None

    # The tables below derive from the config alone. They are made on first use, not in __init__: a model that
    # `from_pretrained` builds on the meta device would otherwise keep them uninitialised (nothing is saved).

    @functools.cached_property
    def bands(self) -> torch.Tensor:
        """`(bands, bins)` 0/1 membership of the analysis bins in the cue bands."""
        config = self.config
        frequencies = np.fft.rfftfreq(config.frame_length, 1 / config.sampling_rate)
        edges = band_edges_hz(config.num_bands, config.lowest_hz, config.highest_hz)
        return self._membership(band_of_bins(frequencies, edges), config.num_bands)

    @functools.cached_property
    def feature_bands(self) -> torch.Tensor:
        """`(feature_bands, bins)` averaging of the analysis bins into the feature bands."""
        config = self.config
        frequencies = np.fft.rfftfreq(config.frame_length, 1 / config.sampling_rate)
        edges = band_edges_hz(config.num_feature_bands, config.lowest_hz, config.highest_hz)
        features = self._membership(band_of_bins(frequencies, edges), config.num_feature_bands)
        return features / features.sum(1, keepdim=True).clamp(min=1)

    @functools.cached_property
    def window(self) -> torch.Tensor:
        """The analysis window."""
        return torch.hann_window(self.config.frame_length)

    @functools.cached_property
    def ild_grid(self) -> torch.Tensor:
        """Every level-difference step in dB."""
        return torch.tensor(self.config.ild_grid_db)

    @functools.cached_property
    def coherence_grid(self) -> torch.Tensor:
        """Every coherence step."""
        return torch.tensor(self.config.coherence_levels)

    @staticmethod
    def _membership(band_index: np.ndarray, num_bands: int) -> torch.Tensor:
        return torch.nn.functional.one_hot(torch.from_numpy(band_index), num_bands).T.float()

    def num_frames(self, num_samples: int) -> int:
        """Cue frames that cover `num_samples` samples at the codec's rate."""
        return -(-num_samples // self.config.hop_length)

    def _spectrum(self, audio: torch.Tensor) -> torch.Tensor:
        """`(..., samples)` to the complex STFT `(..., bins, frames)`, one frame per hop from sample 0."""
        shape, frames = audio.shape[:-1], self.num_frames(audio.shape[-1])
        flat = audio.reshape(-1, audio.shape[-1]).float()
        if flat.shape[-1] < self.config.frame_length // 2 + 1:  # reflect padding needs more than half a window
            flat = torch.nn.functional.pad(flat, (0, self.config.frame_length // 2 + 1 - flat.shape[-1]))
        spectrum = torch.stft(
            flat,
            self.config.frame_length,
            self.config.hop_length,
            window=self.window.to(flat.device),
            return_complex=True,
        )[..., :frames]
        return spectrum.reshape(*shape, *spectrum.shape[-2:])

    @torch.no_grad()
    def analyze(self, stereo: torch.Tensor) -> torch.Tensor:
        """Stereo `(batch, 2, samples)` at the codec's rate to cues `(batch, frames, bands, 2)`: ILD (dB) and IC."""
        if stereo.dim() != 3 or stereo.shape[1] != 2:
            raise ValueError(f"expected stereo audio shaped (batch, 2, samples), got {tuple(stereo.shape)}")
        spectrum = self._spectrum(stereo)  # (batch, 2, bins, frames)
        left, right = spectrum[:, 0], spectrum[:, 1]
        bands = self.bands.to(left.device)
        power_left = self._smooth(torch.einsum("kb,nbf->nfk", bands, power(left)))
        power_right = self._smooth(torch.einsum("kb,nbf->nfk", bands, power(right)))
        cross = torch.einsum("kb,nbf->nfk", bands.to(left.dtype), left * right.conj())
        cross = torch.complex(self._smooth(cross.real), self._smooth(cross.imag)).abs()
        silent = (power_left + power_right) < SILENCE_FLOOR
        tiny = SILENCE_FLOOR * 1e-3
        level = 10 * torch.log10((power_left + tiny) / (power_right + tiny))
        coherence = cross / (power_left * power_right).sqrt().clamp(min=tiny)
        limit = self.config.ild_levels_db[-1]
        level = torch.where(silent, 0.0, level.clamp(-limit, limit))
        coherence = torch.where(silent, 1.0, coherence.clamp(0.0, 1.0))
        return torch.stack([level, coherence], dim=-1)

    def _smooth(self, per_frame: torch.Tensor) -> torch.Tensor:
        """Moving average of `(batch, frames, bands)` over `smoothing_frames` frames (shorter at the ends)."""
        size = self.config.smoothing_frames
        if size == 1:
            return per_frame
        pooled = torch.nn.functional.avg_pool1d(
            per_frame.transpose(1, 2), size, stride=1, padding=size // 2, count_include_pad=False
        )
        return pooled.transpose(1, 2)

    @torch.no_grad()
    def mono_features(self, mono: torch.Tensor) -> torch.Tensor:
        """Mono `(batch, samples)` to features `(batch, feature_bands, frames)`: band log energies relative to the
        loudest band-frame, scaled to about [-1, 1]."""
        energy = power(self._spectrum(mono))  # (batch, bins, frames)
        level = 10 * torch.log10(torch.einsum("kb,nbf->nkf", self.feature_bands.to(energy.device), energy) + 1e-12)
        peak = level.amax(dim=(1, 2), keepdim=True)
        return (level - peak).clamp(min=FEATURE_FLOOR_DB) / (-FEATURE_FLOOR_DB / 2) + 1

    def tokenize(self, cues: torch.Tensor) -> torch.Tensor:
        """Cues `(batch, frames, bands, 2)` to tokens `(batch, codebooks, frames)`: `[1 ILD, 1 IC, 2 ILD, ...]`, the
        nearest point of each grid, or the `rvq` stages of each frame."""
        if self.rvq is not None:
            batch, frames = cues.shape[:2]
            codes = self.rvq.encode(self.rvq.vectors(cues).reshape(batch * frames, -1))
            return codes.reshape(batch, frames, -1).transpose(1, 2)
        level = (cues[..., 0, None] - self.ild_grid.to(cues.device)).abs().argmin(-1)
        coherence = (cues[..., 1, None] - self.coherence_grid.to(cues.device)).abs().argmin(-1)
        return torch.stack([level, coherence], dim=-1).flatten(2).transpose(1, 2)

    def detokenize(self, tokens: torch.Tensor) -> torch.Tensor:
        """Tokens `(batch, codebooks, frames)` to cues `(batch, frames, bands, 2)` (the grid points, or the sum of the
        `rvq` entries); a token past a grid's end (the special token, say) counts as its last point."""
        if self.rvq is not None:
            batch, frames = tokens.shape[0], tokens.shape[-1]
            vectors = self.rvq.decode(tokens.transpose(1, 2).reshape(batch * frames, -1))
            return self.rvq.cues(vectors).reshape(batch, frames, self.config.num_bands, 2)
        level = tokens[:, 0::2].clamp(0, len(self.ild_grid) - 1).transpose(1, 2)
        coherence = tokens[:, 1::2].clamp(0, len(self.coherence_grid) - 1).transpose(1, 2)
        grids = self.ild_grid.to(tokens.device), self.coherence_grid.to(tokens.device)
        return torch.stack([grids[0][level], grids[1][coherence]], dim=-1)

    def token_values(self, coherence: bool = True) -> torch.Tensor:
        """The cue each token of each codebook stands for, `(2 * bands, codebook_size)` (a grid shorter than the
        codebook repeats its last point), for mean decoding; with `coherence=False` the coherence rows are NaN, so
        only the level differences are mean-decoded and the coherences sampled. An `rvq` token is a vector, not one
        value, so the `rvq` tokenizer has none: its models sample."""
        if self.rvq is not None:
            raise ValueError(
                "decoding by the tokens' values (mean, median, ...) needs the scalar tokenizer; this spatial codec's "
                "tokenizer is 'rvq', whose tokens are vectors: use decoding='sample'"
            )
        size = self.config.codebook_size

        def padded(grid: torch.Tensor) -> torch.Tensor:
            return torch.cat([grid, grid[-1:].expand(size - len(grid))]).float()

        pair = torch.stack([padded(self.ild_grid), padded(self.coherence_grid)])
        if not coherence:
            pair[1] = float("nan")
        return pair.repeat(self.config.num_bands, 1)

    def codebook_groups(self) -> torch.Tensor:
        """Which cue each codebook codes, `(num_codebooks,)`: 0 for a band's level difference, 1 for its coherence
        (the scalar tokenizer's `[ILD, coherence]` per band); every `rvq` stage codes the whole frame, group 0. The
        codebooks of one group share part of a `quantile_field`."""
        if self.rvq is not None:
            return torch.zeros(self.config.num_codebooks, dtype=torch.long)
        return torch.arange(self.config.num_codebooks) % 2

    # ----- the stereo codec interface, as the EnCodec layouts have it (`encodec_layouts`) -----

    needs_mirrored_codes: ClassVar[bool] = False  # a swap works on the tokens alone

    @property
    def num_stereo_codebooks(self) -> int:
        """Codebooks of the token stream: two per band, or the `rvq` stages."""
        return self.config.num_codebooks

    @property
    def fixed_codebooks(self) -> torch.Tensor:
        """`(stereo_codebooks,)` all False: the mono fixes no cue token."""
        return torch.zeros(self.num_stereo_codebooks, dtype=torch.bool)

    @property
    def summary(self) -> str:
        """One line on what the tokens are, for `mono2stereo info` and model cards."""
        config = self.config
        tokens = "residual VQ, " if config.is_rvq else ""
        return (
            f"spatial codec: {config.num_bands} ERB bands x (level difference, coherence) per frame; "
            f"{tokens}{self.num_stereo_codebooks} codebooks x {config.codebook_size}"
        )

    @property
    def card_description(self) -> str:
        """What the model generates, as a sentence of the model card."""
        return (
            f"spatial tokens: per frame, a level difference and a coherence in each of {self.config.num_bands} ERB "
            "bands, the cues of parametric stereo. They are decoded against the input itself: the output's mid is "
            "the input, and the side is built from it and a decorrelated copy of it per band."
        )

    card_limitation = (
        "The stereo image is bounded by the spatial codec's resolution (its bands, frames and quantisation steps); "
        "the input is kept untouched as the mid."
    )

    def card_codec_line(self, codec: str | None) -> str:
        """The codec as the model card's table names it (no checkpoint of its own)."""
        if self.config.is_rvq:
            return "spatial codec (parametric stereo; residual-VQ tables fitted on the training songs, in the model)"
        return "spatial codec (parametric stereo, no weights)"

    def encode_mono(self, mono: torch.Tensor) -> torch.Tensor:
        """Mono `(batch, samples)` to the model's conditioning: `mono_features`."""
        return self.mono_features(mono)

    def encode_stereo(self, stereo: torch.Tensor) -> torch.Tensor:
        """Stereo `(batch, 2, samples)` to the tokens `(batch, codebooks, frames)` of its cues."""
        return self.tokenize(self.analyze(stereo))

    def encode_both(self, stereo: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Stereo `(batch, 2, samples)` to a training pair: the mono fold's features and the stereo's tokens."""
        return self.mono_features(fold(stereo, CHANNELS_FIRST)), self.encode_stereo(stereo)

    def swap_channels(self, tokens: torch.Tensor, mirrored_codes: torch.Tensor | None = None) -> torch.Tensor:
        """The tokens of the same stereo with left and right exchanged: every level difference negated, or every
        `rvq` code through its stage's mirror (`mirrored_codes` is not needed)."""
        if self.rvq is not None:
            return self.rvq.swap(tokens)
        swapped = tokens.clone()
        swapped[:, 0::2] = len(self.ild_grid) - 1 - tokens[:, 0::2]
        return swapped

    @torch.no_grad()
    def synthesize(self, mono: np.ndarray, cues: np.ndarray, sampling_rate: int, width: float = 1.0) -> np.ndarray:
        """Stereo `(samples, 2)` at `sampling_rate` whose mid is `mono (samples,)` exactly and whose side carries
        `cues (frames, bands, 2)` (frames at the codec's frame rate), scaled by `width`; see the module."""
        side = np.float32(width) * self.synthesize_side(mono, cues, sampling_rate)
        return from_mid_side(mono, side).astype(np.float32)

    def synthesis_frame_length(self, sampling_rate: int) -> int:
        """The synthesis STFT window at `sampling_rate`: the analysis window's duration, as a power of two."""
        return int(2 ** round(math.log2(self.config.frame_length * sampling_rate / self.config.sampling_rate)))

    def synthesize_side(self, mono: np.ndarray, cues: np.ndarray, sampling_rate: int) -> np.ndarray:
        """The side `(samples,)` of `synthesize` at width 1, made in blocks (`side_blocks`): the cues and the
        decorrelator are local, so memory stays flat in the song's length."""
        mono = np.asarray(mono, dtype=np.float32)
        side = np.zeros_like(mono)
        for start, part in self.side_blocks(mono, cues, sampling_rate):
            side[start : start + len(part)] = part
        return side

    def side_blocks(self, mono, cues: np.ndarray, sampling_rate: int) -> Iterator[tuple[int, np.ndarray]]:
        """The side of `synthesize` at width 1 as `(start, side)` blocks of about `SYNTHESIS_BLOCK_SECONDS`, in
        order; `mono` is an array or anything sliced like one (an `inference.spool.AudioSpool`), read a block and
        its margins at a time."""
        n_fft = self.synthesis_frame_length(sampling_rate)
        hop = n_fft // 4
        block = hop * math.ceil(SYNTHESIS_BLOCK_SECONDS * sampling_rate / hop)
        margin = hop * math.ceil(SYNTHESIS_MARGIN_SECONDS * sampling_rate / hop)
        alpha, beta = (g.float().numpy() for g in cues_to_gains(torch.from_numpy(np.asarray(cues, np.float32))))
        num_samples = len(mono)
        for start in range(0, num_samples, block):  # block edges fall on the hop grid, so frames line up
            first, end = max(0, start - margin), min(num_samples, start + block + margin)
            stop = min(num_samples, start + block)
            span = np.asarray(mono[first:end], dtype=np.float32)
            with torch.no_grad():
                part = self._segment_side(span, first, alpha, beta, sampling_rate, n_fft)
            yield start, part[start - first : stop - first]

    def _segment_side(
        self, mono: np.ndarray, first: int, alpha: np.ndarray, beta: np.ndarray, sampling_rate: int, n_fft: int
    ) -> np.ndarray:
        """The side of one stretch of the input starting at sample `first`, from the gains `(frames, bands)`."""
        config, hop, length = self.config, n_fft // 4, max(len(mono), n_fft)
        window = torch.hann_window(n_fft)
        signals = np.zeros((2, length), dtype=np.float32)
        signals[0, : len(mono)] = mono
        signals[1, : len(mono)] = schroeder_allpass(mono, sampling_rate, np.float32)
        spectra = torch.stft(torch.from_numpy(signals), n_fft, hop, window=window, return_complex=True)
        direct, diffuse = spectra[0], spectra[1]  # (bins, frames)

        edges = band_edges_hz(config.num_bands, config.lowest_hz, config.highest_hz)
        band_index = band_of_bins(np.fft.rfftfreq(n_fft, 1 / sampling_rate), edges)
        band, membership = torch.from_numpy(band_index), self._membership(band_index, config.num_bands)
        # cue frame i is centred on sample i * hop_length at the codec's rate; synthesis frame j on first + j * hop
        position = (first + np.arange(direct.shape[-1]) * hop) / sampling_rate * config.frame_rate
        cue_frames = np.arange(alpha.shape[0])
        frame_alpha = torch.from_numpy(np.stack([np.interp(position, cue_frames, a) for a in alpha.T]).astype("f4"))
        frame_beta = torch.from_numpy(np.stack([np.interp(position, cue_frames, b) for b in beta.T]).astype("f4"))
        # the decorrelated copy gets the input's energy per band and frame, but is never boosted: where it lags
        # the input (an onset) it stays quieter, so transients stay out of it
        gain = (membership @ power(direct)) / (membership @ power(diffuse)).clamp(min=1e-20)
        frame_beta = frame_beta * gain.clamp(max=1.0).sqrt()
        side = frame_alpha[band] * direct + frame_beta[band] * diffuse
        return torch.istft(side, n_fft, hop, window=window, length=length)[: len(mono)].numpy()


__all__ = [
    "SpatialCodecConfig",
    "SpatialCodec",
    "ILD_LEVELS_DB",
    "COHERENCE_LEVELS",
    "cues_to_gains",
    "band_edges_hz",
    "band_of_bins",
]
