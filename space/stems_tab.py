"""The Space's "Stems" tab: upload 2 to 8 stems, pick a mixing style, listen to the mix and see where each stem sits.

Its event is the API endpoint `/mix`. It runs the Space's loaded upmixer on the polyphonic stems, under the same
upload size, length and queue limits as the upmix tab.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import gradio as gr
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg

from mono2stereo.inference.audio_io import AudioError
from mono2stereo.mixing import MIXING_STYLES, mix
from mono2stereo.mixing.files import read_stems
from mono2stereo.mixing.report import placement_figure, report_dict

MIN_STEMS, MAX_STEMS = 2, 8
STYLE_HELP = (
    "modern: bass, drums and vocals centred, the rest to the sides · vintage: hard left, centre or right · "
    "wide: far out · narrow: close to the centre"
)


def picture(placements) -> np.ndarray:
    """The placement figure (each stem's position over time) as an RGB array."""
    canvas = FigureCanvasAgg(placement_figure(placements))
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()


def private(message: str, paths: list[str]) -> str:
    """`message` with the server's upload paths shortened to the file names."""
    for path in sorted(paths, key=len, reverse=True):
        message = message.replace(path, Path(path).name)
    return message


def read_uploads(files: list[str] | None, max_seconds: float) -> tuple[dict, int, str | None]:
    """The uploaded stems (named by their files), at one rate and length, trimmed to `max_seconds`, and a notice."""
    paths = [str(getattr(file, "name", file)) for file in files or []]
    if not MIN_STEMS <= len(paths) <= MAX_STEMS:
        raise gr.Error(f"Upload {MIN_STEMS} to {MAX_STEMS} stems; got {len(paths)}.", title="Stems")
    try:
        stems, rate, _, _ = read_stems(paths, pad=True)  # different rates or lengths: resampled and padded
    except AudioError as error:
        raise gr.Error(private(str(error), paths), title="These stems cannot be mixed") from None
    limit, notice = int(max_seconds * rate), None
    longest = max(audio.shape[0] for audio in stems.values())
    if longest > limit:
        notice = f"The stems are {longest / rate:.1f} s long; this demo mixes the first {max_seconds:g} s."
        gr.Warning(notice)
    return {name: audio[:limit] for name, audio in stems.items()}, rate, notice


def build_stems_tab(pipeline, max_seconds: float, on_gpu: Callable, pcm16: Callable) -> None:
    """Add the "Stems" tab, with the API endpoint `mix`, to the Blocks being built."""

    @on_gpu
    def make_mix(stems: dict, rate: int, style: str, seed: int | None):
        """The mix itself, the only part that wants a GPU."""
        return mix(stems, rate, style=style, seed=seed, model=pipeline, pad=True)

    def mix_stems(files: list[str] | None, style: str = "modern", seed: float | None = 0):
        """Mix 2 to 8 stems in a style; returns the mix, the placement picture, the report and a summary."""
        if style not in MIXING_STYLES:
            raise gr.Error(f"style={style!r}: choose one of {', '.join(MIXING_STYLES)}.")
        stems, rate, notice = read_uploads(files, max_seconds)
        try:
            output = make_mix(stems, rate, style, None if seed is None else int(seed))
        except ValueError as error:
            raise gr.Error(str(error), title="Cannot mix these stems") from None
        placement = output.placements[0]
        where = ", ".join(
            f"{stem.name} ({stem.role}) {stem.pan:+.2f}{' upmixed' if stem.upmixed else ''}"
            for stem in placement.stems
        )
        line = (
            f"**{len(stems)} stems**, {placement.num_samples / rate:.1f} s at {rate} Hz, mixed `{style}` with seed "
            f"{placement.seed} · peak gain {placement.peak_gain:.3f} · {where}"
        )
        summary = f"{line}\n\n⚠️ {notice}" if notice else line
        return (rate, pcm16(output.audio)), picture(output.placements), report_dict(output.placements), summary

    with gr.Tab("Stems", id="stems"):
        gr.Markdown(
            "Upload separated stems (Demucs, Spleeter: `drums`, `bass`, `vocals`, `other`, ...) or recorded tracks. "
            "Each gets a place from the style and its name; stems that play chords or a whole kit get the model's "
            "own stereo image, and all share a room. The mix folds down to the sum of your stems.",
        )
        with gr.Row(equal_height=False):
            with gr.Column(scale=5):
                files = gr.File(
                    file_count="multiple", file_types=["audio"], type="filepath", label="Stems (2 to 8 files)"
                )
                style = gr.Dropdown(list(MIXING_STYLES), value="modern", label="Mixing style", info=STYLE_HELP)
                seed = gr.Number(value=0, precision=0, label="Seed", info="same seed, same placement")
                button = gr.Button("Mix the stems", variant="primary", elem_id="mix-button")
            with gr.Column(scale=7):
                result = gr.Audio(label="Stereo mix", format="wav", interactive=False, elem_id="mix-audio")
                summary = gr.Markdown(elem_id="mix-summary")
        placement = gr.Image(
            label="Where each stem sits over time", type="numpy", format="png", interactive=False, elem_id="placement"
        )
        report = gr.JSON(label="Placement report (to see and repeat the mix)")
        button.click(
            mix_stems,
            inputs=[files, style, seed],
            outputs=[result, placement, report, summary],
            api_name="mix",
            api_description="Mix 2 to 8 stems into stereo: the mix, the placement picture, the report and a summary.",
        )


__all__ = ["MAX_STEMS", "MIN_STEMS", "build_stems_tab", "read_uploads"]
