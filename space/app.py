"""The mono2stereo Space: upmix a mono recording in the browser, listen A/B, and see the stereo field; or mix stems.

python space/app.py                          # the package's default model
python space/app.py --model PATH_OR_HUB_ID   # or MONO2STEREO_MODEL=...; dsp:NAME for a DSP upmixer
GRADIO_SERVER_NAME / GRADIO_SERVER_PORT choose where it listens; --max-seconds (MONO2STEREO_MAX_SECONDS) the
longest input upmixed before it is trimmed.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import gradio as gr
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from mono2stereo.evaluation.metrics import spatial_cues, stereo_width_db
from mono2stereo.evaluation.plots import goniometer_figure, stereo_field_figure
from mono2stereo.inference import DEFAULT_RENDER, RENDER_MODES, AudioError, Upmixer, load_pipeline, read_audio
from mono2stereo.inference.audio_io import fold_warning
from mono2stereo.inference.options import check_seed
from mono2stereo.modeling import Mono2StereoModel

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the Space's own modules, wherever it is started from
from stems_tab import build_stems_tab  # noqa: E402

try:  # ZeroGPU: a GPU is attached only while a decorated function runs
    import spaces

    on_gpu = spaces.GPU(duration=120)
except ImportError:

    def on_gpu(function):
        """No ZeroGPU here: run the function as it is."""
        return function


FALLBACK_MODEL = "dsp:sources"
MAX_SECONDS = 30.0  # a public demo on a CPU Space: longer input is trimmed, with a notice
MAX_FILE_SIZE = "20mb"
MAX_VARIANTS = 4
QUEUE_SIZE = 16
AUTO_STYLE = "auto"
TARGET_WIDTH_DB = (-30.0, 0.0, -8.0)  # the slider's range and start: side-to-mid in dB, narrow to wide
EXAMPLES_DIR = Path(__file__).parent / "examples"

RENDER_HELP = (
    "keep-mid keeps your recording as the centre and adds the generated side; codec plays the generated left and "
    "right; parametric applies the generated level and coherence cues to your recording."
)
CSS = """
.gradio-container { max-width: 1180px !important; margin: 0 auto; }
#masthead { padding: 18px 4px 4px; }
#masthead h1 { font-size: 2.1rem; font-weight: 750; margin: 0; letter-spacing: -0.02em; }
#masthead h1 span { background: linear-gradient(90deg, #4f46e5, #db2777); -webkit-background-clip: text;
  background-clip: text; color: transparent; }
#masthead p { font-size: 1.05rem; margin: 6px 0 0; opacity: 0.8; }
#masthead .badge { display: inline-block; margin-top: 10px; padding: 3px 10px; border-radius: 999px;
  font-size: 0.8rem; background: rgba(79, 70, 229, 0.1); color: #4338ca; }
#model-note { border-left: 3px solid #f59e0b; padding: 6px 12px; background: rgba(245, 158, 11, 0.08);
  border-radius: 6px; }
#summary { min-height: 2.5em; }
#limits { font-size: 0.85rem; opacity: 0.7; margin-top: -6px; }
"""
THEME = gr.themes.Soft(
    primary_hue="indigo",
    secondary_hue="pink",
    font=["ui-sans-serif", "system-ui", "sans-serif"],  # system fonts: no font download
    font_mono=["ui-monospace", "monospace"],
)


def model_name(pipeline: Upmixer) -> str:
    """How the model is named to users: `dsp:NAME`, or the folder (by its name, not its path) or Hub id it was
    loaded from."""
    return Path(pipeline.name).name if os.path.isdir(pipeline.name) else pipeline.name


def resolve_pipeline(model: str | None) -> tuple[Upmixer, str | None]:
    """The pipeline for `model` (None: the default model, else `dsp:sources`) and a note to show about it."""
    if model is None:
        try:
            return load_pipeline(None), None
        except ValueError:
            note = (
                f"No AI model has been published yet, so this demo runs the DSP upmixer `{FALLBACK_MODEL}` "
                "(it finds the sources in the mix and pans them). Style, render mode, seed and variants appear "
                "when an AI model is loaded."
            )
            return load_pipeline(FALLBACK_MODEL), note
    pipeline = load_pipeline(model)
    if not pipeline.generative:
        return pipeline, f"This demo runs the DSP upmixer `{model}`: style, render, seed and variants do not apply."
    return pipeline, None


def figure_image(figure: Figure) -> np.ndarray:
    """The figure drawn as an RGB array."""
    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()


def pcm16(audio: np.ndarray) -> np.ndarray:
    """Float audio as 16-bit PCM for playback in the browser."""
    return (np.clip(audio, -1.0, 1.0) * 32767.0).round().astype(np.int16)


def read_upload(path: str | None, max_seconds: float) -> tuple[np.ndarray, np.ndarray, int, str | None]:
    """Mono to upmix, the original as uploaded (mono or stereo), its rate, and a notice when it was trimmed."""
    if not path:
        raise gr.Error("Upload or record a clip first.", title="No audio")
    name = Path(path).name
    try:  # only the first max_seconds are decoded, whatever length a small compressed upload expands to
        decoded = read_audio(path, max_seconds=max_seconds, keep_stereo=True)
    except AudioError as error:
        raise gr.Error(str(error).replace(path, name), title="This file cannot be read") from None
    original = decoded.stereo if decoded.stereo is not None else decoded.audio
    notices = []
    if decoded.duration_s > max_seconds + 1 / decoded.sampling_rate:
        notices.append(
            f"{name} is {decoded.duration_s:.1f} s long; this demo upmixes the first {max_seconds:g} s. "
            "Run mono2stereo locally for whole songs."
        )
    cancelled = fold_warning(name, decoded.fold_level_db)
    if cancelled is not None:
        notices.append(
            cancelled.replace(
                "upmix one channel instead with --channel left or --channel right", "upload one channel of it instead"
            )
        )
    for notice in notices:
        gr.Warning(notice)
    return decoded.audio, original, decoded.sampling_rate, " ".join(notices) or None


def as_stereo(audio: np.ndarray) -> np.ndarray:
    """`(n, 2)` from mono `(n,)` (dual mono) or stereo `(n, 2)`."""
    return np.stack([audio, audio], axis=1) if audio.ndim == 1 else audio


def field_pictures(original: np.ndarray, stereo: np.ndarray, rate: int) -> tuple[np.ndarray, np.ndarray]:
    """The goniometer and the pan x frequency x time picture of the input against the stereo result."""
    signals = {"input": as_stereo(original), "stereo result": stereo}
    goniometer = goniometer_figure(signals)
    goniometer.suptitle("Goniometer (vertical line = mono, spread = width)", fontsize=11)
    field = stereo_field_figure(
        {name: spatial_cues(audio, rate) for name, audio in signals.items()},
        "Where the sound sits: pan position per frequency band (left) and over time (right)",
    )
    field.set_size_inches(12, 5.4)
    return figure_image(goniometer), figure_image(field)


def summary_text(name: str, mono: np.ndarray, stereo: np.ndarray, rate: int, variants: int, notice: str | None) -> str:
    """One line about what was made, and the trimming notice if any."""
    width = stereo_width_db(stereo)
    line = (
        f"**{mono.shape[0] / rate:.1f} s** at {rate} Hz, upmixed with `{name}` · stereo width **{width:.1f} dB** "
        f"(side to mid energy; mono input: -60 dB)"
    )
    if variants > 1:
        line += f" · {variants} variants (the pictures show the first)"
    return f"{line}\n\n⚠️ {notice}" if notice else line


def show_variant_slots(variants: float) -> list:
    """Show the players of variants 2 to `variants`, hide the rest."""
    return [gr.Audio(visible=index < int(variants or 1)) for index in range(1, MAX_VARIANTS)]


def build_demo(
    pipeline_or_model: Upmixer | Mono2StereoModel | str,
    note: str | None = None,
    max_seconds: float = MAX_SECONDS,
) -> gr.Blocks:
    """The Space's Blocks around one loaded pipeline, with the named API endpoint `upmix`."""
    pipeline = load_pipeline(pipeline_or_model)
    is_ai = pipeline.generative  # style, render, seed and variants apply
    name = model_name(pipeline)
    styles = list(pipeline.styles)

    @on_gpu
    def generate(mono: np.ndarray, rate: int, settings: dict, progress: gr.Progress) -> np.ndarray:
        """The upmix itself, the only part that wants a GPU."""

        def report(done: int, total: int) -> None:
            progress(done / total, desc=f"Generating window {done} of {total}")

        output = pipeline(mono, rate, progress=report, **settings)
        return output.audio if output.audio.ndim == 3 else output.audio[None]

    def upmix(
        audio: str | None,
        style: str = AUTO_STYLE,
        width: float = 1.0,
        render: str = DEFAULT_RENDER,
        seed: float | None = 0,
        variants: float = 1,
        set_width: bool = False,
        target_width_db: float = TARGET_WIDTH_DB[2],
        progress: gr.Progress = gr.Progress(),  # noqa: B008  (how Gradio asks for a progress bar)
    ):
        """Upmix a mono (or folded stereo) clip; returns the stereo, its variants, the original and pictures.

        With `set_width`, the model is asked for `target_width_db` (side-to-mid, dB), which a spatial model's
        stereo then has exactly; otherwise the model chooses.
        """
        mono, original, rate, notice = read_upload(audio, max_seconds)
        settings = {"width": width}
        try:  # settings arrive from the API unchecked; the pipeline checks them as for every caller
            if is_ai:
                count = variants or 1
                if not (isinstance(count, (int, float)) and 1 <= count <= MAX_VARIANTS and float(count).is_integer()):
                    raise ValueError(f"variants={count}: choose between 1 and {MAX_VARIANTS}.")
                settings.update(
                    style=None if style in (None, "", AUTO_STYLE) else style,
                    render=render or DEFAULT_RENDER,
                    seed=check_seed(seed),
                    num_variants=int(count),
                )
                if set_width:
                    settings["target_width_db"] = target_width_db
            progress(0.0, desc="Upmixing")
            outputs = generate(mono, rate, settings, progress)
        except ValueError as error:  # a setting the model cannot use, named in the message
            raise gr.Error(str(error), title="Cannot upmix with these settings") from None
        progress(1.0, desc="Drawing the stereo field")
        goniometer, field = field_pictures(original, outputs[0], rate)
        extra = [(rate, pcm16(outputs[index])) if index < len(outputs) else None for index in range(1, MAX_VARIANTS)]
        return (
            (rate, pcm16(outputs[0])),
            *extra,
            (rate, pcm16(original)),
            goniometer,
            field,
            summary_text(name, mono, outputs[0], rate, len(outputs), notice),
        )

    with gr.Blocks(title="mono2stereo: AI mono-to-stereo upmixer", delete_cache=(3600, 3600)) as demo:
        gr.HTML(
            "<div id='masthead'><h1><span>mono2stereo</span></h1>"
            "<p>Turn a mono recording into stereo: an AI model places the instruments across the stereo field, "
            "and your recording stays the centre of the mix.</p>"
            f"<div class='badge'>model: {name}</div></div>"
        )
        if note:
            gr.Markdown(note, elem_id="model-note")
        with gr.Tabs():
            with gr.Tab("Upmix", id="upmix"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=5):
                        audio_in = gr.Audio(
                            sources=["upload", "microphone"],
                            type="filepath",
                            label="Your mono recording",
                            elem_id="input-audio",
                        )
                        gr.Markdown(
                            f"Upload or record. The first {max_seconds:g} s are upmixed; files up to "
                            f"{MAX_FILE_SIZE.upper()}. Stereo files are folded to mono first.",
                            elem_id="limits",
                        )
                        with gr.Group():
                            style = gr.Dropdown(
                                [("any (the model chooses)", AUTO_STYLE), *[(tag, tag) for tag in styles]],
                                value=AUTO_STYLE,
                                label="Style",
                                visible=is_ai,
                            )
                            width = gr.Slider(
                                0.0,
                                2.0,
                                value=1.0,
                                step=0.05,
                                label="Width",
                                info="0 = mono, 1 = as generated, 2 = wider",
                            )
                            with gr.Row(visible=is_ai):
                                set_width = gr.Checkbox(
                                    value=False, label="Choose how wide", info="off: the model decides"
                                )
                                target_width = gr.Slider(
                                    TARGET_WIDTH_DB[0],
                                    TARGET_WIDTH_DB[1],
                                    value=TARGET_WIDTH_DB[2],
                                    step=0.5,
                                    label="Target width (dB)",
                                    info="side below mid: -3 wide, -8 typical, -15 narrow",
                                )
                            render = gr.Radio(
                                list(RENDER_MODES),
                                value=DEFAULT_RENDER,
                                label="Render",
                                info=RENDER_HELP,
                                visible=is_ai,
                            )
                            with gr.Row(visible=is_ai):
                                seed = gr.Number(value=0, precision=0, label="Seed", info="same seed, same stereo")
                                variants = gr.Slider(
                                    1, MAX_VARIANTS, value=1, step=1, label="Variants", info="to choose from"
                                )
                        button = gr.Button("Upmix to stereo", variant="primary", size="lg", elem_id="upmix-button")
                        examples = sorted(EXAMPLES_DIR.glob("*.ogg"))
                        if examples:
                            gr.Examples(
                                [[str(path)] for path in examples],
                                inputs=[audio_in],
                                example_labels=[path.stem.replace("-", " ").capitalize() for path in examples],
                                label="Examples (short pieces synthesised for this demo, free to use)",
                            )
                    with gr.Column(scale=7):
                        result = gr.Audio(
                            label="Stereo result", format="wav", interactive=False, elem_id="result-audio"
                        )
                        variant_outputs = [
                            gr.Audio(label=f"Variant {index + 1}", format="wav", interactive=False, visible=False)
                            for index in range(1, MAX_VARIANTS)
                        ]
                        original = gr.Audio(
                            label="Original (for A/B listening)",
                            format="wav",
                            interactive=False,
                            elem_id="original-audio",
                        )
                        summary = gr.Markdown(label="Summary", elem_id="summary")
                        goniometer = gr.Image(
                            label="Goniometer: input vs stereo result",
                            type="numpy",
                            format="png",
                            interactive=False,
                            show_label=False,
                            elem_id="goniometer",
                        )
                field = gr.Image(
                    label="Stereo field: pan position x frequency x time, input vs stereo result",
                    type="numpy",
                    format="png",
                    interactive=False,
                    show_label=False,
                    elem_id="stereo-field",
                )
                button.click(
                    upmix,
                    inputs=[audio_in, style, width, render, seed, variants, set_width, target_width],
                    outputs=[result, *variant_outputs, original, goniometer, field, summary],
                    api_name="upmix",
                    api_description="Upmix a mono clip to stereo: the stereo, variants 2-4, the original, pictures.",
                ).success(show_variant_slots, inputs=[variants], outputs=variant_outputs, api_visibility="private")
            build_stems_tab(pipeline, max_seconds, on_gpu, pcm16)  # the "Stems" tab and its endpoint `mix`
    demo.queue(max_size=QUEUE_SIZE, default_concurrency_limit=1)
    return demo


def main(argv: list[str] | None = None) -> None:
    """Load the model once, build the Space and serve it."""
    parser = argparse.ArgumentParser(description="Serve the mono2stereo Space.")
    parser.add_argument(
        "--model",
        default=os.environ.get("MONO2STEREO_MODEL"),
        help="folder saved with save_pretrained, a Hub id, or dsp:NAME (default: MONO2STEREO_MODEL, else the "
        "package's default model, else dsp:sources)",
    )
    parser.add_argument(
        "--max-seconds",
        type=float,
        default=float(os.environ.get("MONO2STEREO_MAX_SECONDS", MAX_SECONDS)),
        help=f"longest input upmixed; longer input is trimmed with a notice (default {MAX_SECONDS:g})",
    )
    arguments = parser.parse_args(argv)
    pipeline, note = resolve_pipeline(arguments.model)
    demo = build_demo(pipeline, note=note, max_seconds=arguments.max_seconds)
    demo.launch(max_file_size=MAX_FILE_SIZE, theme=THEME, css=CSS, footer_links=["api"])


if __name__ == "__main__":
    main()
