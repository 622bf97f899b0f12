"""Upmix speed on CPU: wall time, real-time factor, peak RSS and where the time goes (codec vs transformer).

    PYTHONPATH=. python benchmarks/bench_upmix.py --cap 60 --record
    PYTHONPATH=. python benchmarks/bench_upmix.py --song 180 --threads 1 2     # what a user gets, see below

`--song SECONDS` times the real command instead, as a user runs it: `mono2stereo upmix song.wav -o out/` on a
synthetic 44.1 kHz stereo song, startup and file I/O included, with the default model at each `--threads`, and
`--model dsp:allpass` in the same run, so the ratio of the two says how much slower the AI upmix is than a DSP
one on the same machine at the same moment (a shared machine's absolute times move with its load).

Each case (model, audio length, batch size) runs in its own process so its peak RSS is its own. Models have random
weights (`tiny` = `configs/model/tiny.json`; `base` = `configs/model/base-encodec32k.json`, the real EnCodec 32 kHz
architecture with random codebooks): speed does not depend on the weights. `default` is the trained model shipped
in the package. A case still running after `--cap`
seconds is stopped; its row says so, with how much of the song it generated and, marked "est.", the real-time
factor that rate would give for the whole song.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time

import numpy as np
import torch

CONFIGS = {"tiny": "configs/model/tiny.json", "base": "configs/model/base-encodec32k.json"}
MODELS = [*CONFIGS, "default"]  # default: the trained model shipped in the package
INPUT_RATE = 44100


class Capped(Exception):
    """The case ran past its time cap."""


def build_model(name: str):
    from mono2stereo.inference.default_model import shipped_model_path
    from mono2stereo.modeling import Mono2StereoConfig, Mono2StereoModel, randomize_codebooks

    if name == "default":
        return Mono2StereoModel.from_pretrained(shipped_model_path()).eval()
    torch.manual_seed(0)
    model = Mono2StereoModel(Mono2StereoConfig.from_json_file(CONFIGS[name])).eval()
    randomize_codebooks(model.codec, torch.Generator().manual_seed(0))
    return model


def timed(totals: dict, key: str, function, before=None):
    def wrapper(*args, **kwargs):
        if before is not None:
            before()
        start = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            totals[key] += time.perf_counter() - start

    return wrapper


def run_case(model_name: str, seconds: float, batch_size: int, cap: float) -> dict:
    """Upmix `seconds` of noise at 44.1 kHz once; returns timings (in this process)."""
    from mono2stereo.inference import Mono2StereoPipeline
    from mono2stereo.inference.windowing import plan_windows
    from mono2stereo.modeling.codec import num_frames

    model = build_model(model_name)
    config = model.config
    audio = (np.random.default_rng(0).standard_normal(int(seconds * INPUT_RATE)) * 0.1).astype(np.float32)
    pipeline = Mono2StereoPipeline(model, "cpu")
    window, overlap = pipeline.window_frames(None, None)
    plan = plan_windows(
        num_frames(round(seconds * config.sampling_rate), config.hop_length), window, overlap, batch_size
    )
    positions_total = plan.windows_per_segment * (plan.window_frames + config.num_codebooks - 1)

    totals = dict(encode=0.0, generate=0.0, decode=0.0)
    positions = [0]
    start = time.perf_counter()

    def count_position():
        positions[0] += 1
        if time.perf_counter() - start > cap:
            raise Capped

    model.encode_mono = timed(totals, "encode", model.encode_mono)
    model.decode_stereo = timed(totals, "decode", model.decode_stereo)
    model.generate = timed(totals, "generate", model.generate)
    model.decode_step = timed({"step": 0.0}, "step", model.decode_step, before=count_position)
    capped = False
    try:
        pipeline(audio, INPUT_RATE, seed=0, batch_size=batch_size)
    except Capped:
        capped = True
    wall = time.perf_counter() - start
    return dict(
        model=model_name,
        seconds=seconds,
        batch_size=batch_size,
        wall=wall,
        capped=capped,
        done=positions[0] / positions_total if capped else 1.0,
        rows=plan.num_segments,
        window_steps=plan.windows_per_segment,
        peak_rss_mib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        **totals,
    )


def format_row(result: dict) -> str:
    length = f"{result['seconds'] / 60:g} min" if result["seconds"] >= 60 else f"{result['seconds']:g} s"
    if result["capped"]:
        estimate = result["wall"] / max(result["done"], 1e-9)
        wall = f"capped at {result['wall']:.0f} s ({100 * result['done']:.1f}% generated)"
        speed = f"est. {result['seconds'] / estimate:.3f}x"
    else:
        wall = f"{result['wall']:.1f} s"
        speed = f"{result['seconds'] / result['wall']:.2f}x"
    other = result["wall"] - result["encode"] - result["generate"] - result["decode"]
    return (
        f"| {result['model']} | {length} | {result['batch_size']} | {result['rows']} x {result['window_steps']} | "
        f"{wall} | {speed} | {result['peak_rss_mib']:.0f} | {result['encode']:.1f} | {result['generate']:.1f} | "
        f"{result['decode']:.1f} | {other:.1f} |"
    )


HEADER = (
    "| model | audio | batch | rows x window steps | wall time | speed (x real time) | peak RSS MiB | "
    "codec encode s | transformer generate s | codec decode s | other s |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|"
)


def time_command(seconds: float, threads: list[int]) -> None:
    """Print wall time, real-time factor and peak RSS of `mono2stereo upmix` on a `seconds` song (see the module)."""
    sys.path.insert(0, os.path.dirname(__file__))
    from bench_memory import run_upmix, synthetic_song

    directory = os.path.expanduser("~/m2s-data/bench-audio")
    song = synthetic_song(seconds, directory)
    base = [song, "-o", os.path.join(directory, "out") + os.sep, "--overwrite", "--seed", "0"]
    runs = [("dsp:allpass", None, base + ["--model", "dsp:allpass"])]
    runs += [("default", count, base + ["--threads", str(count)]) for count in threads]
    print("| system | --threads | wall s | x real time | peak RSS MiB | time / dsp:allpass's |")
    print("|---|---|---|---|---|---|")
    allpass = None
    for system, count, arguments in runs:
        wall, rss = run_upmix(os.getcwd(), arguments, count)
        allpass = allpass or wall
        print(
            f"| {system} | {count or '-'} | {wall:.1f} | {seconds / wall:.2f} | {rss:.0f} | {wall / allpass:.1f} |",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=["tiny", "base"], choices=MODELS)
    parser.add_argument("--seconds", nargs="+", type=float, default=[30.0, 300.0])
    parser.add_argument("--batch-sizes", nargs="+", type=int, default=[1, 8])
    parser.add_argument("--cap", type=float, default=60.0, help="stop a case after this many seconds")
    parser.add_argument("--record", action="store_true", help="append the table to benchmarks/RESULTS.md")
    parser.add_argument("--case", help=argparse.SUPPRESS)  # model,seconds,batch: run one case, print JSON
    parser.add_argument("--song", type=float, help="time `mono2stereo upmix` on a song this long (seconds)")
    parser.add_argument("--threads", nargs="+", type=int, default=[1, 2], help="--threads of each --song run")
    args = parser.parse_args()
    if args.song:
        time_command(args.song, args.threads)
        return
    if args.case:
        model, seconds, batch = args.case.split(",")
        print(json.dumps(run_case(model, float(seconds), int(batch), args.cap)))
        return

    rows = []
    for model in args.models:
        for seconds in args.seconds:
            for batch in args.batch_sizes:
                command = [sys.executable, __file__, "--case", f"{model},{seconds},{batch}", "--cap", str(args.cap)]
                done = subprocess.run(command, capture_output=True, text=True, check=True)
                rows.append(format_row(json.loads(done.stdout.strip().splitlines()[-1])))
                print(rows[-1], flush=True)
    table = HEADER + "\n" + "\n".join(rows)
    print(table)
    if args.record:
        command = "PYTHONPATH=. python benchmarks/bench_upmix.py " + " ".join(sys.argv[1:])
        machine = (
            f"2-core x86-64 CPU, 24 GiB RAM ({platform.machine()}, torch {torch.__version__}, "
            f"{torch.get_num_threads()} threads), shared with other jobs while it ran"
        )
        section = f"\n## Upmix speed (CPU)\n\nCommand: `{command}`\n\nMachine: {machine}\n\n{table}\n"
        with open(os.path.join(os.path.dirname(__file__), "RESULTS.md"), "a") as file:
            file.write(section)


if __name__ == "__main__":
    main()
