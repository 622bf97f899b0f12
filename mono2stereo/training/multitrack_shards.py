"""Multitrack mixes rendered once into webdataset tar shards, so training streams them without fluidsynth.

`python -m mono2stereo.training.multitrack OUT --mixes N --seconds S [--midi-debs-dir DIR]` writes
`OUT/shard-NNNNN.tar`, each holding `mix-NNNNNNN.flac` (16-bit stereo at the codec's rate) and `mix-NNNNNNN.json`
(the mix's style, where its piece came from, every stem's role, programme, channel and pan, the room): the layout
a `kind: webdataset` source streams with its styles. `OUT/multitrack.json` keeps the settings and the shards done:
a rerun renders only the shards not yet written (a larger `--mixes` adds shards, and redoes a last shard that grows);
a rerun with other settings is refused. With `--midi-debs-dir`, the Debian packages of `midi_library` are fetched
there once (`apt-get download`) and `OUT/MIDI.tsv` names every piece's package, licence and copyright file.
"""

from __future__ import annotations

import argparse
import io
import json
import multiprocessing
import os
import shutil
import subprocess
import sys
import tarfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import soundfile

from .multitrack import RICH_SOUNDFONTS, MultitrackMixes, default_soundfont

SETTINGS_FILE = "multitrack.json"
_worker_mixes: MultitrackMixes | None = None


def encode_mix(mix: dict, sampling_rate: int) -> tuple[bytes, bytes]:
    """A mix as 16-bit FLAC bytes and its JSON record (style, piece, stem placements, room)."""
    buffer = io.BytesIO()
    soundfile.write(buffer, mix["audio"].T, sampling_rate, format="FLAC", subtype="PCM_16")
    record = {key: mix[key] for key in ("style", "id", "piece", "room")}
    record["stems"] = mix["placements"]
    return buffer.getvalue(), json.dumps(record, sort_keys=True).encode()


def _start_worker(settings: dict) -> None:
    global _worker_mixes
    _worker_mixes = mixes_of(settings)


def _render(index: int) -> tuple[int, bytes, bytes]:
    flac, record = encode_mix(_worker_mixes[index], _worker_mixes.sampling_rate)
    return index, flac, record


def mixes_of(settings: dict) -> MultitrackMixes:
    """The mixes a settings record describes."""
    return MultitrackMixes(
        settings["mixes"],
        settings["sampling_rate"],
        settings["seconds"],
        settings["styles"],
        settings["seed"],
        settings["soundfont"],
        settings["midi_dir"],
        settings["midi_share"],
    )


def shard_ranges(num_mixes: int, per_shard: int) -> list[tuple[str, int, int]]:
    """`(file name, first mix, end)` of every shard."""
    return [
        (f"shard-{j:05d}.tar", start, min(start + per_shard, num_mixes))
        for j, start in enumerate(range(0, num_mixes, per_shard))
    ]


def _comparable(settings: dict) -> dict:
    return {k: v for k, v in settings.items() if k not in ("mixes", "shards")}


def _save(out: Path, settings: dict) -> None:
    partial = out / (SETTINGS_FILE + ".partial")
    partial.write_text(json.dumps(settings, indent=1, sort_keys=True) + "\n")
    os.replace(partial, out / SETTINGS_FILE)


def render_shards(
    out: str | Path,
    settings: dict,
    mixes_per_shard: int = 100,
    workers: int = 1,
    progress: Callable[[int], None] | None = None,
) -> tuple[dict, int]:
    """Render the mixes of `settings` that `out` lacks into tar shards: the settings record (with the shards done)
    and how many mixes this call rendered.

    `settings` holds `mixes, sampling_rate, seconds, styles, seed, soundfont, midi_dir, midi_share`; `progress` is
    called first with the number of mixes already there, then with 1 for each mix written.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    settings = {**settings, "mixes_per_shard": mixes_per_shard, "shards": {}}
    mixes = mixes_of(settings)  # checks the settings and builds the MIDI excerpts once, before any worker starts
    settings["midi_excerpts"] = len(mixes.excerpts)
    saved_path = out / SETTINGS_FILE
    if saved_path.is_file():
        saved = json.loads(saved_path.read_text())
        changed = sorted(
            k for k in _comparable(saved).keys() | _comparable(settings).keys() if saved.get(k) != settings.get(k)
        )
        if changed:
            listed = ", ".join(f"{k}: {saved.get(k)!r} there, {settings.get(k)!r} now" for k in changed)
            raise ValueError(f"{out} holds mixes rendered with other settings ({listed}); choose another folder")
        settings["shards"] = saved.get("shards", {})
    todo = [
        (name, start, end)
        for name, start, end in shard_ranges(settings["mixes"], mixes_per_shard)
        if settings["shards"].get(name) != end - start or not (out / name).is_file()
    ]
    indices = [i for _, start, end in todo for i in range(start, end)]
    if progress is not None:
        progress(settings["mixes"] - len(indices))
    rendered = _rendered(mixes, settings, indices, workers)
    for name, start, end in todo:
        partial = out / (name + ".partial")
        with tarfile.open(partial, "w") as tar:
            for _ in range(start, end):
                index, flac, record = next(rendered)
                for suffix, payload in ((".flac", flac), (".json", record)):
                    info = tarfile.TarInfo(f"mix-{index:07d}{suffix}")
                    info.size, info.mtime = len(payload), 0
                    tar.addfile(info, io.BytesIO(payload))
                if progress is not None:
                    progress(1)
        os.replace(partial, out / name)
        settings["shards"][name] = end - start
        _save(out, settings)
    _save(out, settings)
    if settings["midi_dir"]:
        shutil.copyfile(Path(settings["midi_dir"]) / "midi" / "MIDI.tsv", out / "MIDI.tsv")
    return settings, len(indices)


def _rendered(mixes: MultitrackMixes, settings: dict, indices: list[int], workers: int) -> Iterator[tuple]:
    """`(index, flac, json)` of each mix in order, rendered in `workers` processes (1: in this one)."""
    if workers <= 1 or len(indices) < 2:
        for index in indices:
            yield (index, *encode_mix(mixes[index], mixes.sampling_rate))
        return
    context = multiprocessing.get_context("spawn")  # no torch state forked into the workers
    with context.Pool(workers, initializer=_start_worker, initargs=(settings,)) as pool:
        yield from pool.imap(_render, indices)


def folder_bytes(path: str | Path, pattern: str = "*") -> int:
    """The bytes of the files under `path` that match `pattern`."""
    return sum(p.stat().st_size for p in Path(path).rglob(pattern) if p.is_file())


def main(argv: list[str] | None = None) -> int:
    from tqdm.auto import tqdm

    parser = argparse.ArgumentParser(prog="python -m mono2stereo.training.multitrack", description=__doc__)
    parser.add_argument("output_dir", help="where shard-NNNNN.tar and multitrack.json go")
    parser.add_argument("--mixes", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=6.0, help="each mix's length (default 6)")
    parser.add_argument("--sampling-rate", type=int, default=32000, help="the codec's rate (default 32000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--styles", nargs="+", default=None, help="mixing styles to draw from (default all)")
    parser.add_argument("--soundfont", default=None, help=f"a General-MIDI SoundFont (default {RICH_SOUNDFONTS[0]})")
    parser.add_argument("--midi-debs-dir", default=None, help="fetch Debian's MIDI packages here and mix excerpts")
    parser.add_argument("--midi-share", type=float, default=0.5, help="share of mixes from Debian's MIDI files")
    parser.add_argument("--mixes-per-shard", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    try:
        soundfont = Path(args.soundfont) if args.soundfont else default_soundfont()
    except FileNotFoundError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if not soundfont.is_file():
        print(f"error: SoundFont {soundfont} does not exist; give a .sf2 file (--soundfont)", file=sys.stderr)
        return 2
    rich = str(soundfont) in RICH_SOUNDFONTS
    note = "" if rich or args.soundfont else " (fluid-soundfont-gm is not installed; it is a far richer bank)"
    print(f"SoundFont: {soundfont}{note}", file=sys.stderr)
    settings = {
        "mixes": args.mixes,
        "sampling_rate": args.sampling_rate,
        "seconds": args.seconds,
        "styles": args.styles,
        "seed": args.seed,
        "soundfont": str(soundfont.resolve()),
        "midi_dir": str(Path(args.midi_debs_dir).resolve()) if args.midi_debs_dir else None,
        "midi_share": args.midi_share if args.midi_debs_dir else 0.0,
    }
    started = time.monotonic()
    bar = tqdm(total=args.mixes, desc="rendering mixes", unit="mix")
    try:
        done, rendered = render_shards(args.output_dir, settings, args.mixes_per_shard, args.workers, bar.update)
    except (ValueError, FileNotFoundError, RuntimeError, subprocess.CalledProcessError) as error:
        bar.close()
        print(f"error: {error}", file=sys.stderr)
        return 2
    bar.close()
    shards = folder_bytes(args.output_dir, "shard-*.tar")
    hours = done["mixes"] * done["seconds"] / 3600
    print(f"{done['mixes']} mixes ({hours:.2f} h) in {len(done['shards'])} shards: {shards / 1e6:.1f} MB on disk")
    elapsed = time.monotonic() - started
    print(f"  {shards / 1e6 / max(hours, 1e-9):.0f} MB per hour of mixes; {rendered} rendered in {elapsed:.0f} s")
    if args.midi_debs_dir:
        print(f"  MIDI packages and excerpts: {folder_bytes(args.midi_debs_dir) / 1e6:.1f} MB in {args.midi_debs_dir}")
    return 0


__all__ = ["encode_mix", "folder_bytes", "main", "mixes_of", "render_shards", "shard_ranges"]
