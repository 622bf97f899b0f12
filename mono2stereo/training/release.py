"""Release a trained run as a model folder with its model card: weights, config and how they were made.

    python -m mono2stereo.training.release runs/default-24k-ms mono2stereo/default_model \
        --metrics outputs/eval-default-ms/results.json --system runs/default-24k-ms
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..modeling import Mono2StereoModel
from ..modeling.hub import build_model_card

# How the default model was made: the codec first, then the upmixer on its tokens.
DEFAULT_MODEL_RECIPE = """\
python -m mono2stereo.training.codec --config configs/codec/small-24k.yaml --output-dir outputs/codec
mono2stereo train --config configs/train/default-24k.yaml --output-dir runs/default-24k
mono2stereo train --config configs/train/default-24k-ms.yaml --output-dir runs/default-24k-ms
mono2stereo eval --refs ../shared/data/real-stereo-dev --systems runs/default-24k-ms --seeds 4 \\
    --output-dir outputs/eval-default-ms
python -m mono2stereo.training.release runs/default-24k-ms mono2stereo/default_model \\
    --metrics outputs/eval-default-ms/results.json --system runs/default-24k-ms"""
DEFAULT_MODEL_DATA = (
    "Synthetic stereo mixes made by mono2stereo.training.synthetic (drums, bass, chords, lead and pads placed in "
    "the modern, vintage, wide and narrow mixing styles) for the upmixer; General-MIDI pieces rendered with "
    "FluidSynth and the TimGM6mb soundfont, and synthesised clips, for the codec"
)

DEFAULT_MODEL_EVALUATION = (
    "`mono2stereo eval` on nine real stereo tracks (354 s) folded to mono, mid-side rendering, seeds 0-3: means "
    "over tracks and seeds. ILD/coherence distances are per-band Wasserstein distances to the reference's "
    "distributions; width is the side-to-mid energy ratio. The DSP baselines on the same tracks are in the project's "
    "benchmarks/RESULTS.md: dsp:allpass scores 1.33 dB and 0.164 on the two distances."
)
DEFAULT_MODEL_LIMITATIONS = (
    "This small model was trained on a CPU (1000 steps of 8 windows with left/right codes, then 2400 steps with "
    "mid/side codes, on a codec trained for 2400 steps). It beats dual mono on the spatial-cue distances and ties "
    "the all-pass DSP upmixer on the level-difference distance (1.33 dB for both), but not on coherence (0.183 "
    "against 0.164): its codec does not keep the phase of the side against the mid, so much of the side is diffuse.",
    "It cannot yet hear from a song how wide it should be: its width error per track is 4.7 dB (a song mixed near "
    "mono comes out as wide as any other). Fine-tuning on 9 h of real stereo music did not change that.",
)


def evaluation_metrics(results_json: str | Path, system: str) -> dict[str, float]:
    """The mean scores of one system from a `mono2stereo eval` results.json."""
    rows = json.loads(Path(results_json).read_text())["systems"]
    for row in rows:
        if row["system"] == system:
            return {k: v for k, v in row.items() if isinstance(v, float) and not k.endswith("_seed_std")}
    raise ValueError(f"system {system!r} is not in {results_json}; it has {', '.join(r['system'] for r in rows)}")


def release_model(
    run_dir: str | Path,
    output_dir: str | Path,
    metrics: dict[str, float] | None = None,
    recipe: str = DEFAULT_MODEL_RECIPE,
    training_data: str = DEFAULT_MODEL_DATA,
) -> Path:
    """Save the model of `run_dir` into `output_dir` (safetensors) with a model card; returns the folder."""
    model = Mono2StereoModel.from_pretrained(run_dir)
    output_dir = Path(output_dir)
    model.save_pretrained(output_dir)
    card = build_model_card(
        model,
        codec="small 24 kHz EnCodec trained by mono2stereo",
        metrics=metrics,
        training_command=recipe,
        data_description=f"{training_data}.",
        evaluation_note=DEFAULT_MODEL_EVALUATION if metrics else None,
        extra_limitations=DEFAULT_MODEL_LIMITATIONS,
    )
    card.save(output_dir / "README.md")
    return output_dir


def main(argv: list[str] | None = None) -> int:
    """Command line of `python -m mono2stereo.training.release`."""
    parser = argparse.ArgumentParser(description="Release a trained run as a model folder with its model card.")
    parser.add_argument("run_dir", help="a folder written by `mono2stereo train`")
    parser.add_argument("output_dir", help="where the released model goes")
    parser.add_argument("--metrics", help="a results.json from `mono2stereo eval` to quote in the card")
    parser.add_argument("--system", help="the system name of this model in that results.json")
    args = parser.parse_args(argv)
    metrics = evaluation_metrics(args.metrics, args.system or args.run_dir) if args.metrics else None
    release_model(args.run_dir, args.output_dir, metrics)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
