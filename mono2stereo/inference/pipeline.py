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
from collections.abc import Callable

import numpy as np
import torch

from ..modeling import Mono2StereoModel
from ..modeling.codec import num_frames
from . import rendering
from .audio_io import check_audio, fold_level_db, fold_to_mono, fold_warning
from .default_model import default_model_path
from .dsp_pipeline import DSP_PREFIX, DspPipeline
from .options import check_seed, check_upmix_options
from .output import UpmixOutput
from .resampling import resample
from .windowing import plan_windows

DECODINGS = ("sample", "mean")
DEFAULT_OVERLAP_SECONDS = 1.0  # capped at a quarter of the window when not given
Progress = Callable[[int, int], None]


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


class Mono2StereoPipeline:
    """Holds a loaded model and upmixes audio with one call; see `__call__`."""

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

    def check_settings(self, style: str | None, width: float, render: str, num_variants: int, batch_size: int) -> None:
        """Raise a ValueError naming the first setting that cannot be used."""
        if style is not None:
            self.model.config.style_id(style)
        check_upmix_options(width=width, num_variants=num_variants, batch_size=batch_size)
        if render not in rendering.RENDER_MODES:
            raise ValueError(f"unknown render mode {render!r}; choose one of {', '.join(rendering.RENDER_MODES)}")

    @torch.no_grad()
    def __call__(
        self,
        audio: np.ndarray,
        sampling_rate: int,
        style: str | None = None,
        width: float = 1.0,
        render: str = "mid-side",
        seed: int | None = None,
        generator: torch.Generator | None = None,
        num_variants: int = 1,
        window_seconds: float | None = None,
        overlap_seconds: float | None = None,
        batch_size: int = 8,
        guidance_scale: float = 1.0,
        temperature: float = 1.0,
        top_k: int = 250,
        top_p: float = 0.0,
        target_width_db: float | None = None,
        progress: Progress | None = None,
        decoding: str = "sample",
        channel: str = "mid",
    ) -> UpmixOutput:
        """Upmix mono `audio (samples,)` (stereo `(samples, 2)` is folded to mono first) at `sampling_rate`.

        Args:
            style: a style tag of the model (`model.config.styles`), or None to let the model choose.
            width: scales the generated side; 0 gives dual mono, 1 the generated width.
            render: `mid-side` (the output's mid is the input), `codec` or `parametric`; see `rendering`. A spatial
                model has one way to render: its cues are decoded against the input, whose mid it keeps exactly.
            seed, generator: for reproducible output (pass one, not both).
            num_variants: independent samples; more than one returns `(variants, samples, 2)`.
            window_seconds, overlap_seconds: generation window (at most the model's) and the overlap each window
                continues from and crossfades over.
            batch_size: rows generated at once (segments of the song times variants); bounds the memory.
            guidance_scale, temperature, top_k, top_p: sampling settings of `Mono2StereoModel.generate`.
            target_width_db: asks the model for this side-to-mid energy ratio in dB; None leaves it free.
            progress: called with (windows done, windows in all) after each generated batch.
            decoding: `sample` (a generated stereo image), or for a spatial model `mean`: at every step the cue
                nearest to the expected one under the model (what a regression model would predict; a baseline).
            channel: what stereo input becomes: `mid` (the fold-down), `left` or `right`.
        """
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
        if decoding not in DECODINGS or (decoding == "mean" and not self.model.config.is_spatial):
            raise ValueError(f"decoding={decoding!r} must be 'sample', or 'mean' for a spatial model")
        window, overlap = self.window_frames(window_seconds, overlap_seconds)
        audio = np.asarray(audio)
        folded = audio.ndim == 2 and audio.shape[1] == 2
        mono = check_audio(fold_to_mono(audio, channel=channel), sampling_rate)
        level = fold_level_db(audio) if folded and channel == "mid" else None
        codec_rate = self.model.config.sampling_rate
        if not mono.any():  # digital silence stays silent, whatever a model would make of it
            silence = np.zeros((num_variants, mono.shape[0], 2), dtype=np.float32)
            return self._output(silence, sampling_rate, np.ones(num_variants), folded, level)
        if seed is not None:
            generator = torch.Generator(device=self.device).manual_seed(seed)
        sampling = dict(
            style=style,
            width_db=target_width_db,
            generator=generator,
            guidance_scale=guidance_scale,
            temperature=temperature,
            top_k=top_k,
            top_p=top_p,
        )
        if decoding == "mean":
            sampling["token_values"] = self.model.codec.token_values().to(self.device)
        windowing = dict(
            window_frames=window, overlap_frames=overlap, num_variants=num_variants, batch_size=batch_size
        )
        resampled = resample(mono, sampling_rate, codec_rate)
        outputs, gains = [], []
        if self.model.config.is_spatial:  # cues decoded against the input itself, at its rate
            for cues in self.generate_cues(resampled, progress=progress, **windowing, **sampling):
                stereo = self.model.codec.synthesize(mono, cues, sampling_rate, width)
                gain = rendering.peak_gain(stereo)
                outputs.append(stereo * np.float32(gain) if gain < 1.0 else stereo)
                gains.append(gain)
            return self._output(np.stack(outputs), sampling_rate, np.array(gains), folded, level)
        for variant in self.generate_stereo(resampled, progress=progress, **windowing, **sampling):
            variant = resample(variant, codec_rate, sampling_rate, num_samples=mono.shape[0])
            stereo, gain = rendering.render(render, mono, variant, sampling_rate, width)
            outputs.append(stereo)
            gains.append(gain)
        return self._output(np.stack(outputs), sampling_rate, np.array(gains), folded, level)

    @staticmethod
    def _output(audio: np.ndarray, rate: int, gains: np.ndarray, folded: bool, level: float | None) -> UpmixOutput:
        return UpmixOutput(audio[0] if len(audio) == 1 else audio, rate, gains, folded, level)

    def generate_stereo(
        self,
        mono: np.ndarray,
        window_frames: int,
        overlap_frames: int,
        num_variants: int = 1,
        batch_size: int = 8,
        progress: Progress | None = None,
        **sampling,
    ) -> np.ndarray:
        """Generated stereo `(variants, samples, 2)` at the codec's rate for mono `(samples,)` at that rate.

        The song is cut into windows (`windowing.plan_windows`); window `i` of every segment and variant is encoded,
        generated and decoded in one batch, continuing from the last `overlap_frames` codes of window `i - 1`.
        """
        hop = self.model.config.hop_length
        length = window_frames * hop

        def decode(codes: torch.Tensor) -> np.ndarray:
            return self.model.decode_stereo(codes, length).float().cpu().numpy().transpose(0, 2, 1)

        stereo = self._generate_windows(
            mono, window_frames, overlap_frames, num_variants, batch_size, progress, decode, hop, **sampling
        )
        return stereo[:, : mono.shape[0]]

    def generate_cues(
        self,
        mono: np.ndarray,
        window_frames: int,
        overlap_frames: int,
        num_variants: int = 1,
        batch_size: int = 8,
        progress: Progress | None = None,
        **sampling,
    ) -> np.ndarray:
        """A spatial model's generated cues `(variants, frames, bands, 2)` for mono `(samples,)` at the codec's rate,
        windowed as `generate_stereo` does; overlapping windows are crossfaded in the cue domain."""
        codec = self.model.codec

        def decode(codes: torch.Tensor) -> np.ndarray:
            return codec.detokenize(codes).float().cpu().numpy()

        cues = self._generate_windows(
            mono, window_frames, overlap_frames, num_variants, batch_size, progress, decode, 1, **sampling
        )
        return cues[:, : codec.num_frames(mono.shape[0])]

    def _generate_windows(
        self,
        mono: np.ndarray,
        window_frames: int,
        overlap_frames: int,
        num_variants: int,
        batch_size: int,
        progress: Progress | None,
        decode: Callable[[torch.Tensor], np.ndarray],
        resolution: int,
        **sampling,
    ) -> np.ndarray:
        """The window loop of `generate_stereo` and `generate_cues`: `decode` turns a batch of generated codes into
        `(rows, window_frames * resolution, ...)`, which is crossfaded into `(variants, padded_frames * resolution,
        ...)`."""
        hop = self.model.config.hop_length
        max_segments = max(1, batch_size // num_variants)
        plan = plan_windows(num_frames(mono.shape[0], hop), window_frames, overlap_frames, max_segments)
        padded = np.zeros(plan.padded_frames * hop, dtype=np.float32)
        padded[: mono.shape[0]] = mono
        length = plan.window_frames * hop
        segments = plan.num_segments
        output = previous = None
        for index in range(plan.windows_per_segment):
            starts = [plan.window_start(segment, index) for segment in range(segments)]
            windows = np.stack([padded[start * hop : start * hop + length] for start in starts])
            batch = torch.from_numpy(np.tile(windows, (num_variants, 1))).to(self.device)  # row = variant, segment
            mono_codes = self.model.encode_mono(batch)
            prefix = None if previous is None else previous[..., -plan.overlap_frames :]
            previous = self.model.generate(mono_codes, prefix_codes=prefix, **sampling)
            decoded = decode(previous)  # (rows, window_frames * resolution, ...)
            if output is None:
                output = np.zeros((num_variants, plan.padded_frames * resolution, *decoded.shape[2:]), np.float32)
            for row, values in enumerate(decoded):
                variant, segment = divmod(row, segments)
                envelope = plan.window_envelope(segment, index, resolution).reshape(-1, *[1] * (values.ndim - 1))
                start = starts[segment] * resolution
                output[variant, start : start + values.shape[0]] += values * envelope
            if progress is not None:
                progress(index + 1, plan.windows_per_segment)
        return output


def load_pipeline(
    model: Mono2StereoModel | Mono2StereoPipeline | DspPipeline | str | os.PathLike | None = None,
    device: str | None = None,
) -> Mono2StereoPipeline | DspPipeline:
    """A pipeline for a loaded model, a folder, a Hub id, `dsp:NAME`, or None (the default model)."""
    if isinstance(model, (Mono2StereoPipeline, DspPipeline)):
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
    model: Mono2StereoModel | Mono2StereoPipeline | DspPipeline | str | os.PathLike | None = None,
    style: str | None = None,
    width: float = 1.0,
    render: str = "mid-side",
    seed: int | None = None,
    num_variants: int = 1,
    window_seconds: float | None = None,
    overlap_seconds: float | None = None,
    batch_size: int = 8,
    device: str | None = None,
    guidance_scale: float = 1.0,
    temperature: float = 1.0,
    progress: Progress | None = None,
    **generation_settings,
) -> tuple[np.ndarray, int]:
    """Upmix mono audio to stereo; returns `(stereo, sampling_rate)` at the input's rate and length.

    `stereo` is float32 `(samples, 2)`, or `(num_variants, samples, 2)` with several variants. `model` is a loaded
    `Mono2StereoModel`, a folder saved with `save_pretrained`, a Hub id, `dsp:NAME` for a DSP upmixer, or None for
    the package's default model. Further settings (`top_k`, `top_p`, `target_width_db`, `channel`) go to
    `Mono2StereoPipeline.__call__`, which also reports the peak-safety gain. A stereo input whose channels cancel
    when folded (L = -R) gives a `UserWarning`; pass `channel="left"` or `"right"` to upmix one channel.
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


__all__ = ["Mono2StereoPipeline", "UpmixOutput", "load_model", "load_pipeline", "upmix", "default_device"]
