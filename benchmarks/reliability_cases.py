"""The hostile-user cases of the reliability review, run through the CLI and the API; prints a table of outcomes.

    PYTHONPATH=. HF_HUB_OFFLINE=1 OMP_NUM_THREADS=1 python benchmarks/reliability_cases.py [--timeout 90] [CASE...]

Each case runs in this process with stderr captured at the file-descriptor level (so C decoders' output counts),
under a wall-clock limit: a case still running at the limit is reported as a hang. The outcome column gives the
exit code (or the uncaught exception, i.e. a traceback) and the number of lines on stderr with the first of them.
Run it with PYTHONPATH pointing at an older checkout to get the "before" column.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
import soundfile as sf
import yaml

ROOT = Path(__file__).resolve().parents[1]
RATE = 8000


class Hang(BaseException):
    """A case that ran past its limit (not an Exception, so no `except Exception` in a reader keeps it)."""


def captured(function, limit_s: float) -> tuple[str, list[str], float]:
    """Run `function()`; returns (outcome, stderr lines, seconds)."""
    sys.stderr.flush()
    saved = os.dup(2)
    sink = tempfile.TemporaryFile()
    os.dup2(sink.fileno(), 2)

    def expire(signum, frame):
        if frame is not None and frame.f_code.co_name == "__del__":  # Python ignores errors raised in __del__
            signal.setitimer(signal.ITIMER_REAL, 0.5)
            return
        raise Hang()

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, limit_s)
    started = time.perf_counter()
    try:
        result = function()
        outcome = f"exit {result}" if isinstance(result, int) else str(result)
    except Hang:
        outcome = f"hang (> {limit_s:g} s)"
    except SystemExit as error:
        outcome = f"exit {error.code}"
    except BaseException as error:  # an uncaught error is what a user sees as a traceback
        outcome = f"traceback {type(error).__name__}"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        elapsed = time.perf_counter() - started
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
    sink.seek(0)
    lines = [line for line in sink.read().decode(errors="replace").splitlines() if line.strip()]
    return outcome, lines, elapsed


def cli(*argv) -> int:
    from mono2stereo.cli import main

    return main([str(arg) for arg in argv])


class Setup:
    """The files the cases use, made once under `folder`."""

    def __init__(self, folder: Path):
        from mono2stereo.modeling import tiny_model

        self.folder = folder
        self.model = folder / "model"
        tiny_model().save_pretrained(self.model)
        rng = np.random.default_rng(0)
        self.noise = folder / "noise.wav"
        sf.write(self.noise, 0.1 * rng.standard_normal(RATE), RATE)
        for kind, count in (("mono", 3), ("undecodable", 3), ("stereo", 2)):
            data = folder / f"data-{kind}"
            data.mkdir()
            for index in range(count):
                path = data / f"{kind}-{index}.wav"
                if kind == "undecodable":
                    path.write_bytes(rng.bytes(2000))
                else:
                    sf.write(path, 0.1 * rng.standard_normal((RATE // 2, 1 if kind == "mono" else 2)), RATE)
        left = 0.1 * rng.standard_normal(RATE)
        self.inverted = folder / "inverted.wav"
        sf.write(self.inverted, np.stack([left, -left], axis=1), RATE, subtype="FLOAT")
        tone = 0.3 * np.sin(np.arange(3 * RATE) / RATE * 2 * np.pi * 440)
        sf.write(folder / "good.mp3", tone, RATE)
        data = bytearray((folder / "good.mp3").read_bytes())
        for position in range(200, len(data), 97):
            data[position] = rng.integers(256)
        self.corrupt_mp3 = folder / "corrupt.mp3"
        self.corrupt_mp3.write_bytes(bytes(data))
        self.noise_mp3 = folder / "noise.mp3"
        self.noise_mp3.write_bytes(rng.bytes(20000))

    @functools.cached_property
    def long_flac(self) -> Path:
        path = self.folder / "long.flac"
        block = np.zeros((96000 * 10, 2), dtype=np.int16)
        with sf.SoundFile(path, "w", 96000, 2, "PCM_16") as file:
            for _ in range(60):  # 10 min of 96 kHz stereo
                file.write(block)
        return path

    @functools.cached_property
    def space_app(self):
        import importlib.util

        import mono2stereo

        app_file = Path(mono2stereo.__file__).resolve().parents[1] / "space" / "app.py"  # the checkout under test
        spec = importlib.util.spec_from_file_location("space_app_probe", app_file)
        app = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(app)
        app.gr.Warning = lambda message: None
        return app

    @functools.cached_property
    def killed_writer(self) -> Path:
        kill_a_writer(self.folder / "killed-writer")
        return self.folder / "killed-writer"

    @functools.cached_property
    def checkpointed(self) -> Path:
        path = self.folder / "run"
        code = cli("train", "--config", self.config("synthetic"), "--output-dir", path, "--no-progress")
        assert code == 0, "the reference training run failed"
        return path

    def prepare(self, case: str) -> None:
        """Make what `case` reads before its clock starts."""
        if "Space" in case:
            self.long_flac, self.space_app  # noqa: B018
        if "writer killed" in case:
            self.killed_writer  # noqa: B018
        if "resume:" in case or "prune" in case:
            self.checkpointed  # noqa: B018

    def config(self, kind: str, **overrides) -> Path:
        source = (
            {"kind": "synthetic", "num_mixes": 8, "duration_s": 0.25, "num_shards": 2}
            if kind == "synthetic"
            else {"kind": "folder", "path": str(self.folder / f"data-{kind}")}
        )
        settings = {
            "model": {"config": str(ROOT / "configs/model/tiny.json"), "random_codebooks": True},
            "data": {
                "sources": [source],
                "silence_db": -200.0,
                "min_width_db": -40.0 if kind != "synthetic" else -200,
            },
            "batch_size": 2,
            "warmup_steps": 1,
            "max_steps": 4,
            "save_every": 2,
            "save_total_limit": 3,
            "report_to": "none",
            **overrides,
        }
        path = self.folder / f"config-{kind}-{len(overrides)}-{time.monotonic_ns()}.yaml"
        path.write_text(yaml.safe_dump(settings))
        return path

    def fresh(self, name: str) -> Path:
        path = self.folder / f"case-{name}"
        shutil.rmtree(path, ignore_errors=True)
        return path


def train_case(kind: str, batch_size: int = 2):
    def case(setup: Setup):
        config = setup.config(kind, batch_size=batch_size)
        return cli("train", "--config", config, "--output-dir", setup.fresh(f"train-{kind}"), "--no-progress")

    return case


def finetune_small_folder(setup: Setup):
    args = ["finetune", "--from", setup.model, "--data", setup.folder / "data-stereo", "--style", "sixties"]
    return cli(*args, "--output-dir", setup.fresh("finetune"), "--max-steps", "2", "--batch-size", "8")


def resume_fresh(setup: Setup):
    config = setup.config("synthetic", max_steps=2)
    return cli("train", "--config", config, "--output-dir", setup.fresh("resume-fresh"), "--resume", "latest")


def damaged(name: str | None, how):
    def case(setup: Setup):
        run = setup.fresh(f"damaged-{name}")
        shutil.copytree(setup.checkpointed, run)
        newest = run / "checkpoints" / "step-4"
        if name is None:
            shutil.rmtree(newest)
            newest.mkdir()
        else:
            how(newest / name)
        config = setup.config("synthetic", max_steps=6)
        code = cli("train", "--config", config, "--output-dir", run, "--resume", "latest", "--no-progress")
        return f"exit {code}" + ("" if (run / "model.safetensors").exists() else ", no model")

    return case


def truncate(path):
    with open(path, "r+b") as file:
        file.truncate(os.path.getsize(path) // 2)


def randomise(path):
    path.write_bytes(np.random.default_rng(1).bytes(4096))


def prune_on_start(setup: Setup):
    run = setup.fresh("prune")
    shutil.copytree(setup.checkpointed, run)
    shutil.copytree(run / "checkpoints" / "step-2", run / "checkpoints" / "step-1")
    config = setup.config("synthetic", max_steps=4, save_total_limit=2)
    code = cli("train", "--config", config, "--output-dir", run, "--resume", "latest", "--no-progress")
    return f"exit {code}, {len(list((run / 'checkpoints').glob('step-*')))} checkpoints (limit 2)"


def codec_pickle(setup: Setup):
    import torch

    from mono2stereo.training.codec.__main__ import main as codec_main

    run = setup.fresh("codec")
    run.mkdir()
    marker = run / "pwned"

    class RunsOnUnpickle:
        def __reduce__(self):
            return (Path.write_text, (marker, "ran"))

    torch.save({"step": RunsOnUnpickle()}, run / "checkpoint.pt")
    from mono2stereo.modeling.codec import tiny_codec_config

    config = run / "codec.yaml"
    settings = {"codec": tiny_codec_config().to_diff_dict(), "training": {"max_steps": 2, "crop_seconds": 0.1}}
    config.write_text(yaml.safe_dump({**settings, "data": {"synthetic_fraction": 1.0}}))
    try:
        outcome = (
            f"exit {codec_main(['--config', str(config), '--output-dir', str(run), '--resume', '--no-progress'])}"
        )
    except Exception as error:  # what the user sees as a traceback
        outcome = f"traceback {type(error).__name__}"
    return f"{outcome}, the pickle {'RAN' if marker.exists() else 'did not run'}"


def bad_model(change=None, weights=None, raw=None):
    def case(setup: Setup):
        folder = setup.fresh("model")
        shutil.copytree(setup.model, folder)
        if change is not None:
            config = json.loads((folder / "config.json").read_text())
            change(config)
            (folder / "config.json").write_text(json.dumps(config))
        if raw is not None:
            (folder / "config.json").write_text(raw)
        if weights is not None:
            weights(folder / "model.safetensors")
        return cli("info", folder)

    return case


def setter(key, value, codec=False):
    return lambda config: (config["codec"] if codec else config).__setitem__(key, value)


def upmix_option(option: str, value: str):
    def case(setup: Setup):
        out = setup.fresh("option") / "out.wav"
        code = cli("upmix", setup.noise, "-o", out, "--model", setup.model, "--window", "0.04", option, value)
        return f"exit {code}" + (", output written" if out.exists() else "")

    return case


def inverted_fold(setup: Setup):
    out = setup.fresh("inverted") / "out.wav"
    code = cli("upmix", setup.inverted, "-o", out, "--model", setup.model, "--window", "0.04")
    if not out.exists():
        return f"exit {code}"
    stereo, _ = sf.read(out)
    return f"exit {code}, output peak {np.abs(stereo).max():.1e}"


def folder_named_like_a_file(setup: Setup):
    folder = setup.fresh("dir-input")
    (folder / "x.wav").mkdir(parents=True)
    code = cli("upmix", folder / "x.wav", "-o", folder / "out.wav", "--model", setup.model)
    return f"exit {code}, " + ("out.wav folder left" if (folder / "out.wav").exists() else "nothing left")


def read_mp3(name: str):
    def case(setup: Setup):
        out = setup.fresh(f"mp3-{name}") / "out.wav"
        return cli("upmix", getattr(setup, name), "-o", out, "--model", setup.model, "--window", "0.04")

    return case


def stale_partial(setup: Setup):
    folder = setup.killed_writer
    code = cli("upmix", setup.noise, "-o", folder / "out.wav", "--model", setup.model, "--window", "0.04")
    left = [p.name for p in folder.iterdir() if p.name.endswith(".part")]
    return f"exit {code}, {len(left)} .part file(s) left"


def kill_a_writer(folder: Path) -> None:
    """Leave what a writer killed mid-file leaves in `folder`: a partial file of `out.wav`."""
    folder.mkdir()
    script = (
        "import os, numpy as np, soundfile as sf\n"
        "from mono2stereo.inference import audio_io\n"
        "real = sf.SoundFile.write\n"
        "def die(self, data):\n"
        "    real(self, data[:10]); self.flush(); os._exit(9)\n"
        "sf.SoundFile.write = die\n"
        f"audio_io.write_audio({str(folder / 'out.wav')!r}, np.zeros((100, 2), np.float32), 8000)\n"
    )
    subprocess.run([sys.executable, "-c", script], env={**os.environ, "PYTHONPATH": os.environ.get("PYTHONPATH", "")})


def api_array(dtype: str):
    def case(setup: Setup):
        import mono2stereo

        audio = (0.1 * np.random.default_rng(0).standard_normal(RATE)).astype(np.float32)
        audio = (audio * 32767).astype(np.int16) if dtype == "int16" else audio.astype(np.complex64) * (1 + 1j)
        try:
            stereo, _ = mono2stereo.upmix(audio, RATE, model=str(setup.model), window_seconds=0.04, seed=0)
        except ValueError as error:
            return f"ValueError: {str(error)[:60]}"
        return f"returned, output peak {np.abs(stereo).max():.3g}"

    return case


def space_long_upload(setup: Setup):
    app, path = setup.space_app, setup.long_flac
    tracemalloc.start()
    started = time.perf_counter()
    app.read_upload(str(path), 30.0)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    seconds = time.perf_counter() - started
    return f"{os.path.getsize(path) / 1e6:.1f} MB file: {peak / 1e6:.0f} MB allocated, {seconds:.1f} s"


CASES = {
    "15.1 train: folder of mono files": train_case("mono"),
    "15.1 train: folder of undecodable files": train_case("undecodable"),
    "16.2 train: 2 files, batch 8": train_case("stereo", batch_size=8),
    "16.2 finetune: 2 files, batch 8": finetune_small_folder,
    "16.3 train --resume latest, no checkpoint yet": resume_fresh,
    "15.3 Space: 10 min of 96 kHz stereo in a small FLAC": space_long_upload,
    "15.4 codec trainer resume, crafted checkpoint.pt": codec_pickle,
    "15.5 resume: truncated model.safetensors": damaged("model.safetensors", truncate),
    "15.5 resume: empty optimizer.bin": damaged("optimizer.bin", lambda p: p.write_bytes(b"")),
    "15.5 resume: cut optimizer.bin": damaged("optimizer.bin", truncate),
    "15.5 resume: random scheduler.bin": damaged("scheduler.bin", randomise),
    "15.5 resume: empty step-N folder": damaged(None, None),
    "15.5 resume: missing random_states_0.pkl": damaged("random_states_0.pkl", os.remove),
    "15.9 resume: broken progress-rank0.json": damaged("progress-rank0.json", randomise),
    "15.5 killed between commit and prune": prune_on_start,
    "15.6 model: truncated model.safetensors": bad_model(weights=truncate),
    "15.6 model: random model.safetensors": bad_model(weights=randomise),
    "15.6 model: hidden_size 1e9": bad_model(setter("hidden_size", 1e9)),
    "15.6 model: codec sampling_rate 0": bad_model(setter("sampling_rate", 0, codec=True)),
    "15.6 model: codec sampling_rate -8000": bad_model(setter("sampling_rate", -8000, codec=True)),
    "15.6 model: upsampling_ratios []": bad_model(setter("upsampling_ratios", [], codec=True)),
    "15.6 model: config is a JSON list": bad_model(raw="[1, 2]"),
    '15.6 model: styles "modern"': bad_model(setter("styles", "modern")),
    '15.6 model: width_db_range ["a", "b"]': bad_model(setter("width_db_range", ["a", "b"])),
    "15.6 model: num_decoder_layers 1000000": bad_model(setter("num_decoder_layers", 1000000)),
    "15.6 model: window_frames 1e12": bad_model(setter("window_frames", 1e12)),
    "15.6 model: window_frames 10**12": bad_model(setter("window_frames", 10**12)),
    "15.7 upmix --temperature nan": upmix_option("--temperature", "nan"),
    "15.7 upmix --guidance-scale nan": upmix_option("--guidance-scale", "nan"),
    "15.7 upmix --width 1e9": upmix_option("--width", "1e9"),
    "15.7 upmix --seed 10**23": upmix_option("--seed", str(10**23)),
    "15.7 upmix --window nan": upmix_option("--window", "nan"),
    "15.8 upmix of stereo with L = -R": inverted_fold,
    "15.9 upmix: folder input named x.wav": folder_named_like_a_file,
    "15.9 upmix: corrupt mp3": read_mp3("corrupt_mp3"),
    "15.9 upmix: mp3 of random bytes": read_mp3("noise_mp3"),
    "15.9 upmix: writer killed, then run again": stale_partial,
    "15.9 API: int16 array": api_array("int16"),
    "15.9 API: complex array": api_array("complex"),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cases", nargs="*", help="substrings of case names (default: all)")
    parser.add_argument("--timeout", type=float, default=90.0, help="seconds before a case counts as a hang")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as folder:
        setup = Setup(Path(folder))
        print("| case | outcome | stderr lines | first line | s |\n|---|---|---|---|---|")
        for name, case in CASES.items():
            if args.cases and not any(part in name for part in args.cases):
                continue
            setup.prepare(name)
            outcome, lines, seconds = captured(lambda case=case: case(setup), args.timeout)
            first = (lines[0] if lines else "").replace(str(folder), "TMP").replace("|", "/")[:110]
            print(f"| {name} | {outcome} | {len(lines)} | {first} | {seconds:.1f} |", flush=True)


if __name__ == "__main__":
    main()
