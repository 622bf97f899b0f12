"""`Mono2StereoPipeline` and `upmix`: mono audio in, stereo out at the input's rate and length.

import soundfile as sf
import mono2stereo

audio, rate = sf.read("song.wav", dtype="float32")
stereo, rate = mono2stereo.upmix(audio, rate, model="path/or/hub-id", style="vintage", seed=0)
sf.write("song-stereo.wav", stereo, rate)
"""

from __future__ import annotations

import os
import warnings

import numpy as np
import torch

from ..dsp import DSP_PREFIX
from ..modeling import Mono2StereoModel
from .audio_io import check_audio, fold_level_db, fold_to_mono, fold_warning
from .block_render import ArraySink, AudioSink, render_cues, render_song
from .default_model import default_model_path
from .dsp_pipeline import DspPipeline
from .options import DECODING_STATISTICS, DECODINGS, SAMPLED_DECODINGS, check_seed, check_upmix_options
from .output import UpmixOutput
from .render_modes import DEFAULT_RENDER, render_mode
from .resampling import resampled_length
from .spool import AudioSpool, resample_to_spool
from .upmixer import Upmixer
from .window_generation import Progress, WindowedGeneration, group_progress, variant_generator

DEFAULT_OVERLAP_SECONDS = 1.0  # capped at a quarter of the window when not given
# Windows generated at once when the call does not say: a spatial model's window is cues only, small and fast, and
# batching more of them amortises each decoder step (benchmarks/RESULTS.md, "Batch size"); an EnCodec-kind
# model's window holds a codec's activations, which bound its batch by memory.
SPATIAL_BATCH_SIZE = 32
CODEC_BATCH_SIZE = 8


def default_device() -> str:
    """`cuda` when a GPU is available, else `cpu`."""
    return "cuda" if torch.cuda.is_available() else "cpu"


def load_model(name_or_path: str | os.PathLike, device: str | None = None) -> Mono2StereoModel:
    """Load a `Mono2StereoModel` from a folder saved with `save_pretrained` or a Hub id, in eval mode."""
    name = os.fspath(name_or_path)
    looks_local = name.startswith((".", "/", "~")) or name.count("/") > 1 or os.sep in name.replace("/", "")
    if not os.path.exists(name) and looks_local:
        raise ValueError(f"model folder {name} does not exist; pass a folder saved with save_pretrained or a Hub id")
    try:
        model = Mono2StereoModel.from_pretrained(name)
    except (OSError, ValueError) as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ValueError(f"cannot load model {name!r}: {reason}") from None
    return model.to(device or default_device()).eval()


class Mono2StereoPipeline(WindowedGeneration):
    """Holds a loaded model and upmixes audio with one call; see `__call__`. An `Upmixer`."""

    generative = True

    def __init__(self, model: Mono2StereoModel, device: str | torch.device | None = None):
        if not isinstance(model, Mono2StereoModel):
            raise TypeError(f"model must be a Mono2StereoModel, got {type(model).__name__}")
        self.model = (model.to(device) if device is not None else model).eval()

    @classmethod
    def from_pretrained(cls, name_or_path: str | os.PathLike, device: str | None = None) -> Mono2StereoPipeline:
        """A pipeline over `Mono2StereoModel.from_pretrained(name_or_path)` on `device` (default: GPU if any)."""
        return cls(load_model(name_or_path, device))

    @property
    def device(self) -> torch.device:
        """Where the model runs."""
        return next(self.model.parameters()).device

    @property
    def name(self) -> str:
        """The folder or Hub id the model was loaded from, or "a mono2stereo model" for one built in memory."""
        return self.model.config.name_or_path or "a mono2stereo model"

    @property
    def default_batch_size(self) -> int:
        """Windows generated at once when a call leaves `batch_size` at None: 32 for a spatial model, else 8."""
        return SPATIAL_BATCH_SIZE if self.model.config.is_spatial else CODEC_BATCH_SIZE

    @property
    def styles(self) -> tuple[str, ...]:
        """The model's style tags."""
        return tuple(self.model.config.styles)

    def window_frames(self, window_seconds: float | None, overlap_seconds: float | None) -> tuple[int, int]:
        """Window and overlap in codec frames from seconds (None: the model's window, min(1 s, window / 4))."""
        config = self.model.config
        window = config.window_frames
        if window_seconds is not None:
            window = round(window_seconds * config.frame_rate)
            if not 1 <= window <= config.window_frames:
                raise ValueError(
                    f"window of {window_seconds} s is {window} codec frames; it must be between 1 frame "
                    f"({1 / config.frame_rate:.4g} s) and the model's window ({config.window_seconds:.4g} s)"
                )
        if overlap_seconds is None:
            overlap = max(1, min(round(DEFAULT_OVERLAP_SECONDS * config.frame_rate), window // 4))
        else:
            overlap = round(overlap_seconds * config.frame_rate)
            if not 1 <= overlap < window:
                raise ValueError(
                    f"overlap of {overlap_seconds} s is {overlap} codec frames; it must be at least 1 frame "
                    f"({1 / config.frame_rate:.4g} s) and less than the window ({window / config.frame_rate:.4g} s)"
                )
        return window, overlap

    def check_settings(
        self, style: str | None, width: float, render: str, num_variants: int, batch_size: int | None = None
    ) -> None:
        """Raise a ValueError naming the first setting that cannot be used."""
        if style is not None:
            self.model.config.style_id(style)
        check_upmix_options(width=width, num_variants=num_variants, batch_size=batch_size)
        render_mode(render)

    def check_call(
        self,
        style: str | None = None,
        width: float = 1.0,
        render: str = DEFAULT_RENDER,
        seed: int | None = None,
        generator: torch.Generator | None = None,
        num_variants: int = 1,
        window_seconds: float | None = None,
        overlap_seconds: float | None = None,
        batch_size: int | None = None,
        guidance_scale: float | None = None,
        temperature: float | None = None,
        top_k: int | None = None,
        top_p: float | None = None,
        target_width_db: float | None = None,
        decoding: str | None = None,
        channel: str = "mid",
    ) -> tuple[int | None, int, int]:
        """Check every setting of an upmix before any audio is touched; returns (seed, window, overlap frames)."""
        if seed is not None and generator is not None:
            raise ValueError("pass either seed or generator, not both")
        check_upmix_options(
            temperature=temperature,
            guidance_scale=guidance_scale,
            top_k=top_k,
            top_p=top_p,
            window_seconds=window_seconds,
            overlap_seconds=overlap_seconds,
            target_width_db=target_width_db,
            channel=channel,
        )
        seed = check_seed(seed)
        self.check_settings(style, width, render, num_variants, batch_size)
        decoding = decoding or self.model.generation_settings.decoding
        if decoding not in DECODINGS or (decoding != "sample" and not self.model.config.is_spatial):
            raise ValueError(
                f"decoding={decoding!r} must be 'sample', or for a spatial model one of {', '.join(DECODINGS[1:])}"
            )
        if decoding not in SAMPLED_DECODINGS and self.model.config.codec.is_rvq:
            raise ValueError(
                f"decoding={decoding!r} needs scalar cue tokens; this model's are rvq: use 'sample' or 'quantile'"
            )
        return (seed, *self.window_frames(window_seconds, overlap_seconds))

    @torch.no_grad()
    def __call__(
        self,
        audio: np.ndarray,
        sampling_rate: int,
        style: str | None = None,
        width: float = 1.0,
        render: str = DEFAULT_RENDER,
        seed: int | None = None,
        generator: torch.Generator | None = None,
        num_variants: int = 1,
        window_seconds: float | None = None,
        overlap_seconds: float | None = None,
        batch_size: int | None = None,
        guidance_scale: float | None = None,
        temperature: float | None = None,
        top_k: int | None = None,
        top_p: float | None = None,
        target_width_db: float | None = None,
        progress: Progress | None = None,
        decoding: str | None = None,
        channel: str = "mid",
    ) -> UpmixOutput:
        """Upmix mono `audio (samples,)` (stereo `(samples, 2)` is folded to mono first) at `sampling_rate`.

        Args:
            style: a style tag of the model (`model.config.styles`), or None to let the model choose.
            width: scales the generated side; 0 gives dual mono, 1 the generated width.
            render: `keep-mid` (the output's mid is the input; `mid-side` is its old name), `codec` or
                `parametric`; see `rendering`. A spatial
                model has one way to render: its cues are decoded against the input, whose mid it keeps exactly.
            seed, generator: for reproducible output (pass one, not both). Variant k is generated with seed
                `seed + k`, so it is the single run of that seed; a `generator` is shared by the variants in turn.
                For an EnCodec model with `config.random_mirror` (on unless a model turns it off), the first draw
                of the seed decides whether the generated stereo is used mirrored (left and right swapped): half
                of the seeds are, so no side is favoured over seeds whatever the model leans to.
            num_variants: independent samples; more than one returns `(variants, samples, 2)`.
            window_seconds, overlap_seconds: generation window (at most the model's) and the overlap each window
                continues from and crossfades over.
            batch_size: rows generated at once (segments of the song, of one variant at a time); bounds the memory.
                None: `default_batch_size` (32 for a spatial model, 8 for an EnCodec-kind one).
            guidance_scale, temperature, top_k, top_p: sampling settings of `Mono2StereoModel.generate`; None
                takes the model's own (`model.generation_settings`, saved as its `generation_config.json`).
            target_width_db: asks the model for this side-to-mid energy ratio in dB; None takes the model's own
                (`generation_config.json`), which leaves it free unless a release chose one; a spatial model with
                a width head then takes the width it predicts for the song (`predicted_song_width_db`). A spatial
                model's song is made the asked (or predicted) width exactly: its side is scaled to that side-to-mid
                ratio before `width` and the limiter (the model alone follows the condition only part of the way).
            progress: called with (windows done, windows in all) after each generated batch.
            decoding: `sample` (a generated stereo image), or for a spatial model `mean`: at every step the cue
                nearest to the expected one under the model (what a regression model would predict; a baseline),
                or `mean-level`: the level differences so, the coherences sampled, or `mean-magnitude`: as `mean`
                but each level difference at its expected size, on the side the model finds more likely (the
                mean of a model unsure of the side is pulled to the centre), or `median`: every cue at the median
                of the model's distribution, or `quantile`: sampled at quantiles that drift smoothly over time and
                partly together over bands (`modeling.quantile_field`; the model's `quantile_seconds` and
                `quantile_band_correlation`), so cues do not jump from frame to frame. None takes the model's own.
            channel: what stereo input becomes: `mid` (the fold-down), `left` or `right`.
        """
        settings = dict(
            style=style,
            width=width,
            render=render,
            seed=seed,
            generator=generator,
            num_variants=num_variants,
            window_seconds=window_seconds,
            overlap_seconds=overlap_seconds,
            batch_size=batch_size,
            guidance_scale=guidance_scale,
            temperature=temperature,
            top_k=top_k,
            top_p=top_p,
            target_width_db=target_width_db,
            decoding=decoding,
        )
        self.check_call(**settings, channel=channel)  # before the outputs are allocated
        audio = np.asarray(audio)
        folded = audio.ndim == 2 and audio.shape[1] == 2
        mono = check_audio(fold_to_mono(audio, channel=channel), sampling_rate)
        level = fold_level_db(audio) if folded and channel == "mid" else None
        sinks = [ArraySink(mono.shape[0]) for _ in range(num_variants)]
        output = self.upmix_into(mono, sampling_rate, sinks, progress=progress, **settings)
        stereo = np.stack([sink.audio for sink in sinks])
        output.audio, output.folded, output.fold_level_db = stereo[0] if len(stereo) == 1 else stereo, folded, level
        return output

    @torch.no_grad()
    def upmix_into(
        self,
        mono,
        sampling_rate: int,
        sinks: list[AudioSink],
        style: str | None = None,
        width: float = 1.0,
        render: str = DEFAULT_RENDER,
        seed: int | None = None,
        generator: torch.Generator | None = None,
        window_seconds: float | None = None,
        overlap_seconds: float | None = None,
        batch_size: int | None = None,
        guidance_scale: float | None = None,
        temperature: float | None = None,
        top_k: int | None = None,
        top_p: float | None = None,
        target_width_db: float | None = None,
        decoding: str | None = None,
        peak: float | None = None,
        progress: Progress | None = None,
        num_variants: int | None = None,
    ) -> UpmixOutput:
        """Upmix `mono` (an array or `spool.AudioSpool`, checked) into one sink per variant, block by block.

        The settings are those of `__call__`. The memory used is bounded by `batch_size` and the render's block,
        not by the song's length or the number of variants: variants are generated and rendered one at a time,
        and the song's signals wait on disk. A spatial model's cues are decoded against `mono` itself (`render`
        does not apply). Returns the gains (`audio` is None). `peak` is the input's peak when the caller knows it.
        """
        num_variants = len(sinks) if num_variants is None else num_variants
        seed, window, overlap = self.check_call(
            style,
            width,
            render,
            seed,
            generator,
            num_variants,
            window_seconds,
            overlap_seconds,
            batch_size,
            guidance_scale,
            temperature,
            top_k,
            top_p,
            target_width_db,
            decoding,
        )
        if len(sinks) != num_variants:
            raise ValueError(f"{len(sinks)} outputs were given for {num_variants} variants")
        batch_size = self.default_batch_size if batch_size is None else batch_size
        shipped = self.model.generation_settings  # what the call leaves open, the model's generation_config.json says
        decoding = decoding or shipped.decoding
        target_width_db = shipped.target_width_db if target_width_db is None else target_width_db
        num_samples = len(mono)
        if peak is None:
            peak = max(float(np.max(np.abs(mono[i : i + (1 << 20)]))) for i in range(0, num_samples, 1 << 20))
        if peak == 0.0:  # digital silence stays silent, whatever a model would make of it
            for sink in sinks:
                for start in range(0, num_samples, 1 << 20):
                    sink.write(np.zeros((min(1 << 20, num_samples - start), 2), dtype=np.float32))
            ones = np.ones(num_variants)
            return UpmixOutput(None, sampling_rate, ones, side_gain=ones.copy())
        sampling = dict(
            style=style,
            width_db=target_width_db,
            guidance_scale=guidance_scale,
            temperature=temperature,
            top_k=top_k,
            top_p=top_p,
        )
        if decoding == "quantile":
            sampling["quantile_field"] = (shipped.quantile_seconds, shipped.quantile_band_correlation)
        elif decoding != "sample":
            sampling["token_values"] = self.model.codec.token_values(coherence=decoding != "mean-level").to(
                self.device
            )
            sampling["statistic"] = DECODING_STATISTICS[decoding]
        spatial = self.model.config.is_spatial
        codec_rate = self.model.config.sampling_rate
        codec_samples = resampled_length(num_samples, sampling_rate, codec_rate)
        gains, side_gains = [], []
        with resample_to_spool(mono, sampling_rate, codec_rate, codec_samples) as mono_codec:
            if spatial and target_width_db is None and self.model.config.has_width_head:  # the model's own width
                target_width_db = self.predicted_song_width_db(mono_codec, window, overlap, batch_size, style)
                sampling["width_db"] = target_width_db
            for variant, sink in enumerate(sinks):  # one at a time: variant k is the single run of seed + k
                sampling["generator"] = variant_generator(seed, generator, variant, self.device)
                progress_of_variant = group_progress(progress, variant, num_variants)
                if spatial:  # cues decoded against the input itself, at its rate
                    cues = self._cue_array(codec_samples)
                    self.generate_cues_into(
                        mono_codec, [cues], window, overlap, batch_size, progress_of_variant, **sampling
                    )
                    gain, side_gain = render_cues(
                        self.model.codec, mono, cues, sampling_rate, sink, width, peak, target_width_db=target_width_db
                    )
                else:
                    with AudioSpool(codec_samples, 2) as generated:
                        self.generate_variant_into(
                            mono_codec, generated, window, overlap, batch_size, progress_of_variant, **sampling
                        )
                        with resample_to_spool(generated, codec_rate, sampling_rate, num_samples) as stereo:
                            gain, side_gain = render_song(render, mono, stereo, sampling_rate, sink, width)
                gains.append(gain)
                side_gains.append(side_gain)
        return UpmixOutput(None, sampling_rate, np.array(gains), side_gain=np.array(side_gains))


def load_pipeline(
    model: Mono2StereoModel | Upmixer | str | os.PathLike | None = None,
    device: str | None = None,
) -> Upmixer:
    """A pipeline for a loaded model, a folder, a Hub id, `dsp:NAME`, or None (the default model); an `Upmixer`
    (a pipeline already) is returned as it is."""
    if isinstance(model, Upmixer):
        return model
    if isinstance(model, Mono2StereoModel):
        return Mono2StereoPipeline(model, device)
    if model is None:
        model = default_model_path()
    name = os.fspath(model)
    if name.startswith(DSP_PREFIX):
        return DspPipeline(name)
    key = (name, device)
    if _last_pipeline.get("key") != key:  # keep one loaded model, so repeated upmix() calls reuse it
        _last_pipeline.clear()
        _last_pipeline.update(key=key, pipeline=Mono2StereoPipeline.from_pretrained(name, device))
    return _last_pipeline["pipeline"]


_last_pipeline: dict = {}


def upmix(
    audio: np.ndarray,
    sampling_rate: int,
    model: Mono2StereoModel | Upmixer | str | os.PathLike | None = None,
    style: str | None = None,
    width: float = 1.0,
    render: str = DEFAULT_RENDER,
    seed: int | None = None,
    num_variants: int = 1,
    window_seconds: float | None = None,
    overlap_seconds: float | None = None,
    batch_size: int | None = None,
    device: str | None = None,
    guidance_scale: float | None = None,
    temperature: float | None = None,
    progress: Progress | None = None,
    **generation_settings,
) -> tuple[np.ndarray, int]:
    """Upmix mono audio to stereo; returns `(stereo, sampling_rate)` at the input's rate and length.

    `stereo` is float32 `(samples, 2)`, or `(num_variants, samples, 2)` with several variants. `model` is a loaded
    `Mono2StereoModel`, a folder saved with `save_pretrained`, a Hub id, `dsp:NAME` for a DSP upmixer, or None for
    the package's default model. Further settings (`top_k`, `top_p`, `target_width_db`, `channel`) go to
    `Mono2StereoPipeline.__call__`, which also reports the peak-safety gain; sampling settings left at None are the
    model's own (its `generation_config.json`). A stereo input whose channels cancel when folded (L = -R) gives a
    `UserWarning`; pass `channel="left"` or `"right"` to upmix one channel.
    """
    pipeline = load_pipeline(model, device)
    output = pipeline(
        audio,
        sampling_rate,
        style=style,
        width=width,
        render=render,
        seed=seed,
        num_variants=num_variants,
        window_seconds=window_seconds,
        overlap_seconds=overlap_seconds,
        batch_size=batch_size,
        guidance_scale=guidance_scale,
        temperature=temperature,
        progress=progress,
        **generation_settings,
    )
    warning = fold_warning("input", output.fold_level_db)
    if warning is not None:
        warnings.warn(warning.replace("--channel left or --channel right", 'channel="left" or "right"'), stacklevel=2)
    return output.audio, output.sampling_rate


__all__ = ["Mono2StereoPipeline", "Upmixer", "UpmixOutput", "load_model", "load_pipeline", "upmix", "default_device"]
