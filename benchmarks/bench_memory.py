"""Peak memory (RSS) and wall time of `mono2stereo upmix` by song length and by number of variants.

    PYTHONPATH=. python benchmarks/bench_memory.py --lengths 30 600 3600 --variants 1 8 64

Each case runs the real command in its own process (`python -m mono2stereo upmix IN -o OUT ...`, the default
model unless `--model`), and its peak RSS is read from the kernel when it exits (`wait4`), startup included. The
inputs are synthetic 44.1 kHz stereo songs (plucked tones over noise, made once under `--audio-dir`): memory does
not depend on what the music is. `--source DIR` runs the package found in DIR instead (e.g. an export of an older
commit, for a before/after table). `--variants` cases use a `--variants-seconds` song.

`--stand-in` measures everything but the transformer, for songs too long to generate on a shared 2-core machine:
the same file-to-file upmix (`files.upmix_file`: decode, resample, render, write) runs in its own process with the
tiny model, whose generation is replaced by a fixed panned copy of the mono. Generation's own memory is bounded by
the batch (its windows are the same for any song length), so the real model's figure is its 30 s figure plus what
the stand-in rows add with length.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

import numpy as np
import soundfile as sf

RATE = 44100
CHUNK_SECONDS = 10


def synthetic_song(seconds: float, directory: str) -> str:
    """A stereo 16-bit wav of `seconds` at 44.1 kHz, written chunk by chunk (made once, then reused)."""
    path = os.path.join(directory, f"song-{seconds:g}s.wav")
    if os.path.exists(path):
        return path
    os.makedirs(directory, exist_ok=True)
    rng = np.random.default_rng(0)
    time_axis = np.arange(CHUNK_SECONDS * RATE) / RATE
    with sf.SoundFile(path + ".part", "w", RATE, 2, "PCM_16", format="WAV") as file:
        remaining = int(seconds * RATE)
        while remaining > 0:
            chunk = 0.02 * rng.standard_normal((len(time_axis), 2))
            for onset in np.arange(0, CHUNK_SECONDS, 0.5):
                tone = np.sin(2 * np.pi * rng.choice([110, 220, 330, 440, 660]) * time_axis)
                pan = rng.uniform(0.2, 0.8)
                envelope = np.where(time_axis >= onset, np.exp(-(time_axis - onset) * 4), 0.0)
                chunk += 0.3 * (tone * envelope)[:, None] * np.array([pan, 1 - pan])
            file.write(chunk[: min(remaining, len(chunk))].astype(np.float32))
            remaining -= len(chunk)
    os.replace(path + ".part", path)
    return path


def run_upmix(source: str, arguments: list[str], threads: int | None = None) -> tuple[float, float]:
    """Run `mono2stereo upmix ARGUMENTS` with the package in `source`; returns (wall seconds, peak RSS MiB)."""
    environment = dict(os.environ, PYTHONPATH=source, HF_HUB_OFFLINE="1")
    if threads is not None:
        environment["OMP_NUM_THREADS"] = str(threads)
    command = [sys.executable, "-m", "mono2stereo", "upmix", *arguments]
    start = time.perf_counter()
    process = subprocess.Popen(command, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {process.stderr.read().decode()[-2000:]}")
    return wall, usage.ru_maxrss / 1024


def stand_in_case(source: str, song: str, output: str, variants: int) -> None:
    """Upmix `song` to `output` in this process with generation replaced by a panned copy (see the module)."""
    sys.path.insert(0, source)
    import torch

    from mono2stereo.inference import Mono2StereoPipeline
    from mono2stereo.inference.files import plan_jobs, upmix_file
    from mono2stereo.modeling import tiny_model

    torch.set_num_threads(1)

    class StandIn(Mono2StereoPipeline):
        def generate_into(self, mono, outputs, window_frames, overlap_frames, batch_size=8, progress=None, **kw):
            for start in range(0, len(mono), 1 << 20):
                block = np.asarray(mono[start : start + (1 << 20)], dtype=np.float32)
                for out in outputs:
                    frames = np.stack([0.8 * block, 0.2 * block], axis=1)
                    if hasattr(out, "write"):
                        out.write(start, frames)
                    else:
                        out[start : start + len(block)] = frames

        def generate_stereo(self, mono, window_frames, overlap_frames, num_variants=1, batch_size=8, **kw):
            return np.broadcast_to(np.stack([0.8 * mono, 0.2 * mono], axis=1), (num_variants, len(mono), 2)).copy()

    job = plan_jobs([song], output, True, variants, overwrite=True)[0]
    upmix_file(job.input_path, job.output_paths, StandIn(tiny_model()), True, seed=0, num_variants=variants)


def run_stand_in(source: str, song: str, output: str, variants: int) -> tuple[float, float]:
    """`stand_in_case` in a child process; returns (wall seconds, peak RSS MiB)."""
    command = [sys.executable, __file__, "--stand-in-case", source, song, output, str(variants)]
    start = time.perf_counter()
    process = subprocess.Popen(command, env=dict(os.environ, OMP_NUM_THREADS="1"), stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"stand-in upmix failed: {process.stderr.read().decode()[-2000:]}")
    return time.perf_counter() - start, usage.ru_maxrss / 1024


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--stand-in-case":
        stand_in_case(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lengths", nargs="*", type=float, default=[30, 600, 3600], help="song lengths, seconds")
    parser.add_argument("--variants", nargs="*", type=int, default=[1, 8, 64])
    parser.add_argument("--variants-seconds", type=float, default=10.0)
    parser.add_argument("--model", help="passed as --model (default: the package's default model)")
    parser.add_argument("--source", default=os.getcwd(), help="folder holding the mono2stereo package to run")
    parser.add_argument("--threads", type=int, default=1, help="OMP_NUM_THREADS of each run")
    parser.add_argument("--audio-dir", default=os.path.expanduser("~/m2s-data/bench-audio"))
    parser.add_argument("--label", default="", help="a name for this code in the table, e.g. before/after")
    parser.add_argument("--stand-in", action="store_true", help="replace generation by a panned copy (see above)")
    args = parser.parse_args()
    output = os.path.join(args.audio_dir, "out")
    os.makedirs(output, exist_ok=True)
    cases = [(seconds, 1) for seconds in args.lengths] + [(args.variants_seconds, n) for n in args.variants]
    print("| code | audio (44.1 kHz stereo) | variants | wall s | speed (x real time) | peak RSS MiB |")
    print("|---|---|---|---|---|---|")
    for seconds, variants in cases:
        song = synthetic_song(seconds, args.audio_dir)
        arguments = [song, "-o", output + os.sep, "--overwrite", "--seed", "0", "--variants", str(variants)]
        if args.model:
            arguments += ["--model", args.model]
        if args.stand_in:
            wall, rss = run_stand_in(os.path.abspath(args.source), song, output, variants)
        else:
            wall, rss = run_upmix(args.source, arguments, args.threads)
        length = f"{seconds / 60:g} min" if seconds >= 60 else f"{seconds:g} s"
        print(f"| {args.label} | {length} | {variants} | {wall:.1f} | {seconds / wall:.2f} | {rss:.0f} |", flush=True)


if __name__ == "__main__":
    main()
