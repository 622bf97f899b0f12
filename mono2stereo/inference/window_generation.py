"""Generation in windows: a song of any length cut into the model's windows, generated a batch of rows at a time.

The song is cut into windows (`windowing.plan_windows`) and read one window at a time from an array or a spool;
window `i` of every segment and variant is encoded, generated and decoded in one batch, continuing from the last
overlap codes of window `i - 1`, and crossfaded into the outputs (arrays or spools). EnCodec models decode
stereo at the codec's rate (`generate_into`); spatial models decode cues (`generate_cues_into`).

Variants are generated one after the other, each with its own generator (`variant_generator`: seed `seed + k`
for variant k), so variant k of several is the single run of seed `seed + k`. For an EnCodec model with
`config.random_mirror`, the first draw of a variant's generator decides whether its generated stereo is mirrored
(L and R swapped, the side negated), so that over seeds neither side is favoured whatever the model leans to
(`generate_variant_into`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from ..modeling.codec import num_frames
from ..modeling.quantile_field import quantile_field, window_quantiles
from .spool import AudioSpool
from .windowing import plan_windows

Progress = Callable[[int, int], None]
MIRROR_BLOCK = 1 << 18  # frames swapped at a time when a spool's channels are mirrored


def variant_generator(
    seed: int | None, generator: torch.Generator | None, variant: int, device: torch.device | str
) -> torch.Generator | None:
    """The generator of variant `variant`: seeded `seed + variant`, else the caller's `generator` (shared by the
    variants in turn), else None (torch's global generator)."""
    if seed is not None:
        return torch.Generator(device=device).manual_seed(seed + variant)
    return generator


def mirror_channels(stereo) -> None:
    """Swap the two channels of `(samples, 2)` stereo in place, an array or a spool, block by block."""
    for start in range(0, len(stereo), MIRROR_BLOCK):
        block = np.ascontiguousarray(np.asarray(stereo[start : start + MIRROR_BLOCK])[:, ::-1])
        if isinstance(stereo, AudioSpool):
            stereo.write(start, block)
        else:
            stereo[start : start + len(block)] = block


def read_windows(mono, plan, index: int, hop: int) -> tuple[list[int], np.ndarray]:
    """Window `index` of every segment of `plan`: the start frames, and the mono `(segments, samples)` read from
    `mono` (an array or spool), silence after the song's end."""
    segments, length = plan.num_segments, plan.window_frames * hop
    starts = [plan.window_start(segment, index) for segment in range(segments)]  # in codec frames
    windows = np.zeros((segments, length), dtype=np.float32)
    for row, start in enumerate(starts):
        part = mono[start * hop : min(start * hop + length, len(mono))]
        windows[row, : len(part)] = part
    return starts, windows


class WindowedGeneration:
    """The window loop of `Mono2StereoPipeline` (which gives `model` and `device`)."""

    def draws_mirror(self, generator: torch.Generator | None) -> bool:
        """Whether a variant is mirrored: for an EnCodec model with `config.random_mirror`, a fair draw that is
        the first of the variant's generator (never for a spatial model, or with `random_mirror` off)."""
        config = self.model.config
        if config.is_spatial or not config.random_mirror:
            return False
        device = generator.device if generator is not None else "cpu"
        return bool(torch.randint(0, 2, (1,), generator=generator, device=device).item())

    def generate_variant_into(
        self,
        mono,
        output,
        window_frames: int,
        overlap_frames: int,
        batch_size: int = 8,
        progress: Progress | None = None,
        **sampling,
    ) -> bool:
        """One variant's generated stereo into `output` (a zeroed `(samples, 2)` array or spool at the codec's rate),
        mirrored when `draws_mirror` says so (drawn before any token); returns whether it was mirrored."""
        mirrored = self.draws_mirror(sampling.get("generator"))
        self.generate_into(mono, [output], window_frames, overlap_frames, batch_size, progress, **sampling)
        if mirrored:
            mirror_channels(output)
        return mirrored

    def _cue_array(self, codec_samples: int) -> np.ndarray:
        """Zeroed cues `(frames, bands, 2)` for `codec_samples` samples at the codec's rate."""
        codec = self.model.codec
        return np.zeros((codec.num_frames(codec_samples), codec.config.num_bands, 2), dtype=np.float32)

    def generate_into(
        self,
        mono,
        outputs: list,
        window_frames: int,
        overlap_frames: int,
        batch_size: int = 8,
        progress: Progress | None = None,
        **sampling,
    ) -> None:
        """Generate stereo at the codec's rate for `mono` (array or spool at that rate) into each of `outputs`.

        `outputs` are zeroed `(samples, 2)` arrays or spools, one per variant, at most `batch_size`; see
        `_generate_windows`.
        """
        length = window_frames * self.model.config.hop_length

        def decode(codes: torch.Tensor) -> np.ndarray:
            return self.model.decode_stereo(codes, length).float().cpu().numpy().transpose(0, 2, 1)

        self._generate_windows(
            mono, outputs, window_frames, overlap_frames, batch_size, progress, decode, self.model.config.hop_length,
            **sampling,
        )  # fmt: skip

    def generate_cues_into(
        self,
        mono,
        outputs: list[np.ndarray],
        window_frames: int,
        overlap_frames: int,
        batch_size: int = 8,
        progress: Progress | None = None,
        **sampling,
    ) -> None:
        """A spatial model's cues for `mono` (array or spool at the codec's rate) into each of `outputs`, zeroed
        `(frames, bands, 2)` arrays, one per variant, at most `batch_size`; overlapping windows are crossfaded in
        the cue domain."""
        codec = self.model.codec

        def decode(codes: torch.Tensor) -> np.ndarray:
            return codec.detokenize(codes).float().cpu().numpy()

        fields = None
        if "quantile_field" in sampling:  # one field per output, drawn before any window
            seconds, correlation = sampling.pop("quantile_field")
            frames = num_frames(len(mono), self.model.config.hop_length)
            groups, rate = codec.codebook_groups(), codec.config.frame_rate
            generator = sampling.get("generator")
            fields = [quantile_field(groups, frames, rate, seconds, correlation, generator) for _ in outputs]
        self._generate_windows(
            mono, outputs, window_frames, overlap_frames, batch_size, progress, decode, 1, fields=fields, **sampling
        )

    def _generate_windows(
        self,
        mono,
        outputs: list,
        window_frames: int,
        overlap_frames: int,
        batch_size: int,
        progress: Progress | None,
        decode: Callable[[torch.Tensor], np.ndarray],
        resolution: int,
        fields: list[torch.Tensor] | None = None,
        **sampling,
    ) -> None:
        """The window loop of `generate_into` and `generate_cues_into`.

        The song is cut into windows (`windowing.plan_windows`), read from `mono` (an array or spool) one window at
        a time; window `i` of every segment and variant is encoded, generated and decoded in one batch, continuing
        from the last `overlap_frames` codes of window `i - 1`. `decode` turns a batch of generated codes into
        `(rows, window_frames * resolution, ...)`, which is crossfaded into `outputs` (arrays or spools, one per
        variant, `resolution` values per codec frame), up to each output's length. `fields`, one `(codebooks,
        frames)` quantile field per output over the whole song, give the windows' sampling quantiles.
        """
        if not 1 <= len(outputs) <= batch_size:
            raise ValueError(f"{len(outputs)} variants cannot be generated in a batch of {batch_size}")
        hop = self.model.config.hop_length
        num_samples = len(mono)
        max_segments = max(1, batch_size // len(outputs))
        plan = plan_windows(num_frames(num_samples, hop), window_frames, overlap_frames, max_segments)
        segments = plan.num_segments
        previous = None
        for index in range(plan.windows_per_segment):
            starts, windows = read_windows(mono, plan, index, hop)
            batch = torch.from_numpy(np.tile(windows, (len(outputs), 1))).to(self.device)  # row = variant, segment
            mono_codes = self.model.encode_mono(batch)
            prefix = None if previous is None else previous[..., -plan.overlap_frames :]
            if fields is not None:
                quantiles = [window_quantiles(field, starts, plan.window_frames) for field in fields]
                sampling["quantiles"] = torch.cat(quantiles).to(self.device)
            previous = self.model.generate(mono_codes, prefix_codes=prefix, **sampling)
            decoded = decode(previous)  # (rows, window_frames * resolution, ...)
            for row, values in enumerate(decoded):
                variant, segment = divmod(row, segments)
                output, start = outputs[variant], starts[segment] * resolution
                envelope = plan.window_envelope(segment, index, resolution).reshape(-1, *[1] * (values.ndim - 1))
                frames = (values * envelope)[: max(0, len(output) - start)]
                if isinstance(output, AudioSpool):
                    output.add(start, frames)
                else:
                    output[start : start + len(frames)] += frames
            if progress is not None:
                progress(index + 1, plan.windows_per_segment)

    @torch.no_grad()
    def predicted_song_width_db(
        self, mono, window_frames: int, overlap_frames: int, batch_size: int = 8, style=None
    ) -> float:
        """A width-head model's width for the whole song `mono` (array or spool at the codec's rate), in dB: the
        head's predictions for the windows of the upmix, as side-to-mid energy ratios weighted by each window's mid
        energy (the ratio of the song's side to its mid, were each window that wide)."""
        from ..modeling.generation import style_ids_for

        hop = self.model.config.hop_length
        plan = plan_windows(num_frames(len(mono), hop), window_frames, overlap_frames, max(1, batch_size))
        rows = plan.num_segments
        style_ids, _ = self.model.conditioning_inputs(rows, self.device, style_ids_for(self.model, style, rows), None)
        side_energy = mid_energy = 0.0
        for index in range(plan.windows_per_segment):
            _, windows = read_windows(mono, plan, index, hop)
            states = self.model.width_head_states(
                self.model.encode_mono(torch.from_numpy(windows).to(self.device)), style_ids
            )
            energies = (windows.astype(np.float64) ** 2).sum(axis=1)
            ratios = 10.0 ** (self.model.predicted_width_db(states).double().cpu().numpy() / 10.0)
            side_energy += float((energies * ratios).sum())
            mid_energy += float(energies.sum())
        low, high = self.model.config.width_db_range
        if mid_energy <= 0.0:
            return low
        return float(np.clip(10.0 * np.log10(side_energy / mid_energy), low, high))

    def generate_stereo(
        self,
        mono: np.ndarray,
        window_frames: int,
        overlap_frames: int,
        num_variants: int = 1,
        batch_size: int = 8,
        progress: Progress | None = None,
        seed: int | None = None,
        **sampling,
    ) -> np.ndarray:
        """Generated stereo `(variants, samples, 2)` at the codec's rate for mono `(samples,)` at that rate, in memory.

        Variant k is generated with `variant_generator(seed, generator, k)` and mirrored as its draw says
        (`generate_variant_into`), as in an upmix.
        """
        output = np.zeros((num_variants, mono.shape[0], 2), dtype=np.float32)
        generator = sampling.pop("generator", None)
        for variant in range(num_variants):
            sampling["generator"] = variant_generator(seed, generator, variant, self.device)
            self.generate_variant_into(
                mono, output[variant], window_frames, overlap_frames, batch_size,
                group_progress(progress, variant, num_variants), **sampling,
            )  # fmt: skip
        return output

    def generate_cues(
        self,
        mono: np.ndarray,
        window_frames: int,
        overlap_frames: int,
        num_variants: int = 1,
        batch_size: int = 8,
        progress: Progress | None = None,
        seed: int | None = None,
        **sampling,
    ) -> np.ndarray:
        """A spatial model's generated cues `(variants, frames, bands, 2)` for mono `(samples,)` at the codec's rate,
        in memory, variant k with `variant_generator(seed, generator, k)` (see `generate_cues_into`)."""
        output = np.stack([self._cue_array(len(mono)) for _ in range(num_variants)])
        generator = sampling.pop("generator", None)
        for variant in range(num_variants):
            sampling["generator"] = variant_generator(seed, generator, variant, self.device)
            self.generate_cues_into(
                mono, [output[variant]], window_frames, overlap_frames, batch_size,
                group_progress(progress, variant, num_variants), **sampling,
            )  # fmt: skip
        return output


def group_progress(progress: Progress | None, group: int, groups: int) -> Progress | None:
    """Progress over all variants (or groups of them) from the progress of one's windows."""
    if progress is None:
        return None
    return lambda done, total: progress(group * total + done, groups * total)


__all__ = ["Progress", "WindowedGeneration", "group_progress", "mirror_channels", "variant_generator"]
