"""How well could a perfect upmixer do with this codec? The codec's bound on the spatial scores.

    python benchmarks/bench_codec_bound.py --codec mono2stereo/default_model --refs ../shared/data/real-stereo-dev

A perfect upmixer would generate exactly the codes of the reference stereo. This script gives it those codes: each
reference is coded in a channel layout (`left-right`: L and R; `mid-side`: M and S), decoded, and rendered like the
pipeline renders generated stereo (`keep-mid`, with and without the equaliser, and `parametric`). The scores, from
`mono2stereo eval`'s metrics against the reference, are the best any model on this codec and layout can reach
with that render; `dsp:allpass` and `dsp:dual` are printed beside them. Everything runs at the reference's rate,
as in `mono2stereo eval` (the codec's signals are resampled with soxr).

`--codec` is a folder with an `EncodecModel` or with a `Mono2StereoModel` (its codec is used).
"""

from __future__ import annotations

import argparse
import platform
from pathlib import Path

import numpy as np
import torch
from transformers import EncodecModel

from mono2stereo.dsp import upmix_dsp
from mono2stereo.evaluation.evaluate import load_reference, reference_files
from mono2stereo.evaluation.metrics import fold_down, scores_from_cues, spatial_cues
from mono2stereo.inference.rendering import render_keep_mid, render_parametric
from mono2stereo.inference.resampling import resample
from mono2stereo.modeling import Mono2StereoConfig, Mono2StereoModel
from mono2stereo.modeling.encodec_layouts import CHANNEL_LAYOUTS, stereo_codec_for

METRICS = {
    "ild_distance_db": "ILD dist. (dB)",
    "coherence_distance": "Coh. dist.",
    "ild_error_db": "ILD err. (dB)",
    "coherence_error": "Coh. err.",
    "width_db": "Width (dB)",
    "width_error_db": "Width err. (dB)",
}
RENDERS = {
    "keep-mid": lambda mono, stereo, rate: render_keep_mid(mono, stereo, rate),
    "keep-mid, no equaliser": lambda mono, stereo, rate: render_keep_mid(mono, stereo, rate, equalise=False),
    "parametric": render_parametric,
}


def load_codec(path: str) -> tuple[EncodecModel, float]:
    """The codec of a Mono2StereoModel folder (with its bandwidth) or an EncodecModel folder (largest bandwidth)."""
    config = Path(path, "config.json").read_text()
    if '"mono2stereo"' in config:
        model = Mono2StereoModel.from_pretrained(path)
        return model.codec.eval(), model.config.codec_bandwidth
    codec = EncodecModel.from_pretrained(path).eval()
    return codec, float(max(codec.config.target_bandwidths))


@torch.no_grad()
def coded_stereo(stereo: np.ndarray, rate: int, codec: EncodecModel, bandwidth: float, layout: str) -> np.ndarray:
    """`stereo (samples, 2)` at `rate`, coded in `layout` with its true codes and decoded, back at `rate`."""
    codec_rate = codec.config.sampling_rate
    audio = torch.from_numpy(np.stack([resample(channel, rate, codec_rate) for channel in stereo.T]))[None]
    config = Mono2StereoConfig(codec=codec.config.to_dict(), codec_bandwidth=bandwidth, channel_layout=layout)
    stereo_codec = stereo_codec_for(config, codec)
    coded = stereo_codec.decode_stereo(stereo_codec.encode_stereo(audio), audio.shape[-1])[0].numpy()
    return np.stack([resample(channel, codec_rate, rate, num_samples=len(stereo)) for channel in coded], axis=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--codec", required=True, help="EncodecModel or Mono2StereoModel folder")
    parser.add_argument("--refs", required=True, help="folder of real stereo music")
    parser.add_argument("--layouts", nargs="+", default=list(CHANNEL_LAYOUTS), choices=CHANNEL_LAYOUTS)
    parser.add_argument("--max-seconds", type=float, default=None, help="score only the start of each track")
    args = parser.parse_args()
    torch.manual_seed(0)
    codec, bandwidth = load_codec(args.codec)

    rows: dict[str, list[dict[str, float]]] = {}
    for path in reference_files(args.refs):
        reference = load_reference(path, args.max_seconds)
        stereo, rate = reference.stereo, reference.sampling_rate
        mono, cues = fold_down(stereo), spatial_cues(stereo, rate)

        upmixes = {}
        for layout in args.layouts:
            coded = coded_stereo(stereo, rate, codec, bandwidth, layout)
            for render, function in RENDERS.items():
                upmixes[f"true {layout} codes, {render}"] = function(mono, coded, rate)
        for name in ("allpass", "dual"):
            upmixes[f"dsp:{name}"] = upmix_dsp(name, mono, rate)
        for name, upmix in upmixes.items():
            scores = scores_from_cues(upmix, spatial_cues(upmix, rate), stereo, cues, mono, rate)
            rows.setdefault(name, []).append(scores)
        print(f"scored {reference.name}", flush=True)

    print(
        f"\ncodec {args.codec} at {bandwidth} kbps; {len(rows['dsp:dual'])} tracks of {args.refs}; {platform.node()}"
    )
    print("| System | " + " | ".join(METRICS.values()) + " |")
    print("|---" * (len(METRICS) + 1) + "|")
    for name, scores in rows.items():
        means = [np.mean([row[key] for row in scores]) for key in METRICS]
        print(
            f"| {name} | "
            + " | ".join(f"{value:.3f}" if abs(value) < 10 else f"{value:.1f}" for value in means)
            + " |"
        )


if __name__ == "__main__":
    main()
