"""The DSP upmixers (`dsp:NAME`) behind the same call as the AI pipeline: an `Upmixer` without weights."""

from __future__ import annotations

import numpy as np

from ..audio import PEAK_CEILING, input_gain, mid_side
from ..dsp import DSP_PREFIX, dsp_upmixer_name
from ..dsp.upmixers import upmix_dsp
from .audio_io import check_audio, fold_level_db, fold_to_mono
from .limiting import limit_side
from .options import MAX_WIDTH, check_channel, check_number
from .output import UpmixOutput
from .render_modes import DEFAULT_RENDER, render_mode


class DspPipeline:
    """Upmixes with a named DSP upmixer (`dsp:dual`, `dsp:lauridsen`, `dsp:allpass`, `dsp:orban`, `dsp:sources`).

    The upmixer's stereo is not limited; this pipeline alone keeps L and R within `PEAK_CEILING` and reports the
    gains it applied, as the AI pipeline does.
    """

    styles: tuple[str, ...] = ()
    generative = False

    def __init__(self, name: str):
        self.key = dsp_upmixer_name(name)  # a ValueError naming the known upmixers for an unknown one
        self.name = DSP_PREFIX + self.key

    def check_settings(
        self, style: str | None, width: float, render: str, num_variants: int, batch_size: int | None = None
    ) -> None:
        """Raise a ValueError naming the first setting a DSP upmixer cannot use."""
        if style is not None:
            raise ValueError(f"{self.name} has no styles; drop style={style!r} (--style)")
        if render_mode(render) != DEFAULT_RENDER:
            raise ValueError(f"render={render!r} applies to AI models; {self.name} renders its own stereo")
        if num_variants != 1:
            raise ValueError(f"{self.name} is deterministic; num_variants={num_variants} must be 1")
        check_number("width", width, 0.0, MAX_WIDTH, " (0 gives dual mono, 1 the upmixer's own width)")

    def window_frames(self, window_seconds: float | None, overlap_seconds: float | None) -> tuple[int, int]:
        """(0, 0): a DSP upmixer works on the whole song at once, so the window settings do not apply."""
        return 0, 0

    def __call__(
        self,
        audio: np.ndarray,
        sampling_rate: int,
        style: str | None = None,
        width: float = 1.0,
        render: str = DEFAULT_RENDER,
        num_variants: int = 1,
        channel: str = "mid",
        **generation_settings,
    ) -> UpmixOutput:
        """Upmix mono (or folded stereo) `audio`; the AI generation settings (seed, window, ...) do not apply."""
        self.check_settings(style, width, render, num_variants, 1)
        check_channel(channel)
        audio = np.asarray(audio)
        folded = audio.ndim == 2 and audio.shape[1] == 2
        mono = check_audio(fold_to_mono(audio, channel=channel), sampling_rate)
        level = fold_level_db(audio) if folded and channel == "mid" else None
        stereo = np.asarray(upmix_dsp(self.key, mono, sampling_rate, width=width), dtype=np.float32)
        # the upmixer's stereo is unlimited: peak safety happens here alone, and is reported as it is applied
        mid, side = mid_side(stereo)
        gain = input_gain(float(np.max(np.abs(mid), initial=0.0)), PEAK_CEILING)
        stereo, least = limit_side(mid * np.float32(gain), side * np.float32(gain), sampling_rate)
        return UpmixOutput(stereo, sampling_rate, np.array([gain]), folded, level, np.array([least]))

    def upmix_into(self, mono, sampling_rate: int, sinks: list, peak: float | None = None, **settings) -> UpmixOutput:
        """Upmix `mono` (an array or spool) into one sink; a DSP upmixer works on the whole song in memory."""
        if len(sinks) != 1:
            raise ValueError(f"{self.name} is deterministic; it writes one output, not {len(sinks)}")
        output = self(mono[0 : len(mono)], sampling_rate, **settings)
        sinks[0].write(output.audio)
        output.audio = None
        return output


__all__ = ["DSP_PREFIX", "DspPipeline"]
