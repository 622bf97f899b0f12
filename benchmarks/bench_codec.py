"""Reconstruction quality and speed of the trained codec on real stereo music.

    python benchmarks/bench_codec.py --codec outputs/codec/final --refs ../shared/data/real-stereo-dev

Each channel of each reference is resampled to the codec's rate (soxr) and coded on its own, as the upmixer codes
L, R and the mono mid. Systems: the trained codec; an untrained codec of the same config with random codebooks
(the floor); a low-pass round trip through 8 kHz sampling (a no-weights reference point). Metrics: log-mel L1
distance (natural log, 64 bands; lower is better) and SI-SDR in dB, floored at -60 dB, of L and R (their mean),
of the side (L-R)/2 rebuilt from the coded L and R, and of the mid (L+R)/2 coded directly. Speed: encode and
decode of 30 s of mono audio, best of three, in x real time.
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr
import torch
from transformers import EncodecModel

from mono2stereo.audio import AUDIO_EXTENSIONS, left_right, mid_side, side
from mono2stereo.evaluation.metrics import SI_SDR_FLOOR_DB, scale_invariant_sdr_db
from mono2stereo.modeling.codec import randomize_codebooks
from mono2stereo.training.codec import CodecTrainingConfig, codec_round_trip, log_mel_distance

REPO = Path(__file__).resolve().parents[1]
LOWPASS_RATE = 8000


def si_sdr(estimate: np.ndarray, target: np.ndarray) -> float:
    """SI-SDR in dB; a silent estimate (e.g. a side lost because L and R got the same codes) scores -60 dB."""
    if np.sum(np.square(estimate, dtype=np.float64)) <= 1e-12 * np.sum(np.square(target, dtype=np.float64)):
        return SI_SDR_FLOOR_DB
    return max(scale_invariant_sdr_db(estimate, target), SI_SDR_FLOOR_DB)


def lowpass_round_trip(audio: np.ndarray, sampling_rate: int) -> np.ndarray:
    """Resample to 8 kHz and back: everything above 4 kHz is lost."""
    down = soxr.resample(audio, sampling_rate, LOWPASS_RATE, quality="HQ")
    up = soxr.resample(down, LOWPASS_RATE, sampling_rate, quality="HQ")[: audio.shape[0]]
    return np.pad(up, (0, audio.shape[0] - up.shape[0])).astype(np.float32)


def track_scores(reference: np.ndarray, coder, sampling_rate: int) -> dict[str, float]:
    """Scores of one system on one stereo track `(samples, 2)` at the codec's rate."""
    left, right = left_right(reference)
    mid, reference_side = mid_side(reference)
    coded_left, coded_right, coded_mid = coder(left), coder(right), coder(mid)
    return {
        "mel": float(np.mean([log_mel_distance(coded_left, left, sampling_rate),
                              log_mel_distance(coded_right, right, sampling_rate)])),
        "si_sdr": float(np.mean([si_sdr(coded_left, left), si_sdr(coded_right, right)])),
        "side_si_sdr": si_sdr(side(np.stack([coded_left, coded_right], axis=1)), reference_side),
        "mid_si_sdr": si_sdr(coded_mid, mid),
    }  # fmt: skip


def codec_speed(codec: EncodecModel, seconds: float = 30.0) -> tuple[float, float]:
    """Encode and decode speed (x real time) on `seconds` of noise, best of three."""
    audio = torch.randn(1, 1, round(seconds * codec.config.sampling_rate)) * 0.1
    bandwidth = float(max(codec.config.target_bandwidths))
    encode_times, decode_times = [], []
    with torch.no_grad():
        for _ in range(3):
            start = time.perf_counter()
            encoded = codec.encode(audio, bandwidth=bandwidth)
            encode_times.append(time.perf_counter() - start)
            start = time.perf_counter()
            codec.decode(encoded.audio_codes, encoded.audio_scales)
            decode_times.append(time.perf_counter() - start)
    return seconds / min(encode_times), seconds / min(decode_times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--codec", default=str(REPO / "outputs/codec/final"), help="trained codec folder")
    parser.add_argument("--config", default=str(REPO / "configs/codec/small-24k.yaml"), help="for the random codec")
    parser.add_argument("--refs", default=str(REPO.parent / "shared/data/real-stereo-dev"), help="stereo references")
    parser.add_argument("--max-seconds", type=float, default=None, help="only the first seconds of each track")
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    trained = EncodecModel.from_pretrained(args.codec).eval()
    config = CodecTrainingConfig.from_yaml(args.config)
    torch.manual_seed(0)
    random_codec = randomize_codebooks(EncodecModel(config.codec).eval(), torch.Generator().manual_seed(0))
    rate = trained.config.sampling_rate
    systems = {
        "trained codec": lambda audio: codec_round_trip(trained, audio),
        "random codec": lambda audio: codec_round_trip(random_codec, audio),
        "8 kHz low-pass": lambda audio: lowpass_round_trip(audio, rate),
    }

    files = sorted(p for p in Path(args.refs).iterdir() if p.suffix.lower() in AUDIO_EXTENSIONS)
    scores: dict[str, dict[str, dict[str, float]]] = {name: {} for name in systems}
    seconds = {}
    for path in files:
        audio, file_rate = sf.read(str(path), dtype="float32", always_2d=True)
        if args.max_seconds is not None:
            audio = audio[: round(args.max_seconds * file_rate)]
        audio = soxr.resample(audio, file_rate, rate, quality="HQ").astype(np.float32)
        seconds[path.stem] = audio.shape[0] / rate
        for name, coder in systems.items():
            scores[name][path.stem] = track_scores(audio, coder, rate)

    metrics = ("mel", "si_sdr", "side_si_sdr")
    header = ["Track", "Seconds"] + [f"{m} ({s})" for m in ("Mel dist.", "SI-SDR dB", "Side SI-SDR dB") for s in
                                     ("codec", "random", "8k LP")]  # fmt: skip
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for track in seconds:
        cells = [f"{scores[s][track][m]:.2f}" for m in metrics for s in systems]
        print(f"| {track} | {seconds[track]:.1f} | " + " | ".join(cells) + " |")
    means = {s: {m: float(np.mean([v[m] for v in scores[s].values()])) for m in (*metrics, "mid_si_sdr")} for s in
             systems}  # fmt: skip
    cells = [f"**{means[s][m]:.2f}**" for m in metrics for s in systems]
    print(f"| **mean** | {sum(seconds.values()):.0f} | " + " | ".join(cells) + " |")

    print("\n| System | Mel dist. | SI-SDR L/R (dB) | Side SI-SDR (dB) | Mid SI-SDR (dB) |")
    print("|---|---|---|---|---|")
    for s in systems:
        m = means[s]
        print(f"| {s} | {m['mel']:.2f} | {m['si_sdr']:.2f} | {m['side_si_sdr']:.2f} | {m['mid_si_sdr']:.2f} |")

    size_mb = 4 * sum(t.numel() for t in [*trained.parameters(), *trained.buffers()]) / 1e6
    parameters = sum(p.numel() for p in trained.parameters())
    encode_x, decode_x = codec_speed(trained)
    upmix_x = 1.0 / (1.0 / encode_x + 2.0 / decode_x)  # the upmixer encodes the mono and decodes L and R
    print(f"\nCodec: {parameters / 1e6:.2f} M parameters, {size_mb:.1f} MB in fp32 with its codebooks; "
          f"encode {encode_x:.0f}x, decode {decode_x:.0f}x real time on 30 s of mono, {upmix_x:.0f}x for the "
          f"upmixer's codec work (one encode, two decodes); {args.threads} torch thread(s), {platform.machine()}, "
          f"torch {torch.__version__}.")  # fmt: skip


if __name__ == "__main__":
    main()
