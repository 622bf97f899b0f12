"""`mono2stereo corpus OUT`: all the training data in one command, each part cached and resumable.

It runs, in order,
1. the real stereo songs of `debian_music` (fetched with `apt-get download`, checked, deduplicated and cut) into
   `OUT/train`, `OUT/heldout`, `OUT/MANIFEST.tsv` and `OUT/REMOVED.tsv`;
2. the stereo productions of `lmms_productions` (LMMS's demo songs from Debian, rendered by the `lmms` command
   line, whole authors held out) into `OUT/productions/{train,heldout,heldout-songs}` and its MANIFEST.tsv;
3. the multitrack renders of `multitrack_shards` (General-MIDI parts rendered by fluidsynth, placed by the mixing
   styles, half of them excerpts of Debian's MIDI music) into `OUT/multitrack/shard-*.tar`;
and writes what each part took (wall seconds, hours, bytes on disk) to `OUT/CORPUS.json`. Downloads are kept in
`--cache-dir` (default `~/.cache/mono2stereo`), so a rebuild fetches nothing, and a rerun with `--resume` reuses
every song already cut and every shard already rendered. `OUT/train` and `OUT/heldout` are `kind: folder` sources,
`OUT/multitrack` a `kind: webdataset` source (`configs/train/spatial-corpus.yaml`).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from ..errors import CommandError

CORPUS_FILE = "CORPUS.json"


def default_cache_dir() -> Path:
    """Where downloads are kept between builds: `$XDG_CACHE_HOME/mono2stereo` or `~/.cache/mono2stereo`."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "mono2stereo"


def build_songs(out: Path, cache: Path, sampling_rate: int, workers: int, resume: bool) -> dict:
    """Part 1, the Debian songs: hours and songs per split, removals by rule, seconds taken."""
    from .debian_music import prepare

    started = time.monotonic()
    rows, removed = prepare(str(out), str(cache / "debian-music-debs"), sampling_rate, workers=workers, resume=resume)
    report = {"seconds": round(time.monotonic() - started, 1), "removed": dict(sorted(removed.items()))}
    return {**report, **_splits(rows, out)}


def build_productions(out: Path, cache: Path, sampling_rate: int) -> dict:
    """Part 2, the LMMS productions: songs and hours per split, removals, seconds taken."""
    from .lmms_productions import prepare_productions

    started = time.monotonic()
    rows = prepare_productions(out, cache, sampling_rate)
    report = {"seconds": round(time.monotonic() - started, 1), "removed": sum(1 for row in rows if row["rule"])}
    return {**report, **_splits([row for row in rows if not row["rule"]], out / "productions")}


def build_mixes(
    out: Path,
    cache: Path,
    mixes: int,
    seconds: float,
    sampling_rate: int,
    workers: int,
    soundfont: str | None = None,
    midi_share: float = 0.5,
) -> dict:
    """Part 2, the multitrack renders: mixes, hours, bytes and seconds taken.

    `midi_share` of the mixes are excerpts of Debian's MIDI music (fetched into the cache), the rest random pieces.
    """
    from tqdm.auto import tqdm

    from .multitrack import default_soundfont
    from .multitrack_shards import render_shards

    settings = {
        "mixes": mixes,
        "sampling_rate": sampling_rate,
        "seconds": seconds,
        "styles": None,
        "seed": 0,
        "soundfont": str(Path(soundfont).resolve() if soundfont else default_soundfont().resolve()),
        "midi_dir": str((cache / "midi-debs").resolve()) if midi_share > 0 else None,
        "midi_share": midi_share,
    }
    started = time.monotonic()
    with tqdm(total=mixes, desc="rendering mixes", unit="mix") as bar:
        done, rendered = render_shards(out / "multitrack", settings, workers=workers, progress=bar.update)
    return {
        "seconds": round(time.monotonic() - started, 1),
        "mixes": done["mixes"],
        "rendered_now": rendered,
        "hours": round(done["mixes"] * seconds / 3600, 3),
        "soundfont": settings["soundfont"],
        "bytes": _bytes(out / "multitrack"),
    }


def _splits(rows: list[dict], folder: Path) -> dict:
    """Songs, hours and bytes on disk of each split of the kept `rows`, whose segments lie in `folder/SPLIT`."""
    report = {}
    for split in ("train", "heldout"):
        chosen = [row for row in rows if row["split"] == split]
        report[split] = {
            "songs": len(chosen),
            "hours": round(sum(float(row["duration_s"]) for row in chosen) / 3600, 3),
            "bytes": _bytes(folder / split),
        }
    return report


def _bytes(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


def corpus_arguments(parser: argparse.ArgumentParser) -> None:
    """The parser of `mono2stereo corpus`."""
    parser.description = __doc__.split("\n\n")[0].split(": ", 1)[1]
    parser.add_argument("output_dir", help="where train/, heldout/, multitrack/ and the tables go")
    parser.add_argument("--mixes", type=int, default=2000, help="multitrack mixes to render (default 2000; 0: none)")
    parser.add_argument("--mix-seconds", type=float, default=6.0, help="each mix's length (default 6)")
    parser.add_argument(
        "--midi-share", type=float, default=0.5, help="share of mixes cut from Debian's MIDI music (default 0.5)"
    )
    parser.add_argument("--soundfont", default=None, help="a General-MIDI .sf2 (default fluid-soundfont-gm's)")
    parser.add_argument("--sampling-rate", type=int, default=32000, help="the codec's rate (default 32000)")
    parser.add_argument("--workers", type=int, default=2, help="processes for cutting and rendering (default 2)")
    parser.add_argument("--cache-dir", default=None, help=f"kept downloads (default {default_cache_dir()})")
    parser.add_argument("--resume", action="store_true", help="reuse the songs and shards already in OUTPUT_DIR")
    parser.add_argument("--skip-songs", action="store_true", help="without the Debian songs")
    parser.add_argument(
        "--skip-productions", action="store_true", help="without the LMMS productions (they need `lmms` installed)"
    )
    parser.set_defaults(handler=run_corpus)


def run_corpus(args: argparse.Namespace) -> int:
    """Build the songs, then the renders; print and save what each part took."""
    import subprocess

    for name, value in (("--mixes", args.mixes), ("--workers", args.workers - 1)):
        if value < 0:
            raise CommandError(f"{name} must be at least {1 if name == '--workers' else 0}")
    if args.mix_seconds <= 0:
        raise CommandError(f"--mix-seconds must be positive, got {args.mix_seconds}")
    if not 0 <= args.midi_share <= 1:
        raise CommandError(f"--midi-share is a share of the mixes, from 0 to 1; got {args.midi_share}")
    out = Path(args.output_dir)
    if (out / CORPUS_FILE).exists() and not args.resume:
        raise CommandError(
            f"{out} already holds a corpus ({CORPUS_FILE}); pass --resume to add to it, or another folder"
        )
    cache = Path(args.cache_dir) if args.cache_dir else default_cache_dir()
    out.mkdir(parents=True, exist_ok=True)
    report = json.loads((out / CORPUS_FILE).read_text()) if (out / CORPUS_FILE).exists() else {}
    started = time.monotonic()
    try:
        if not args.skip_songs:
            report["songs"] = build_songs(out, cache, args.sampling_rate, args.workers, args.resume)
        if not args.skip_productions:
            report["productions"] = build_productions(out, cache, args.sampling_rate)
        if args.mixes:
            report["multitrack"] = build_mixes(
                out,
                cache,
                args.mixes,
                args.mix_seconds,
                args.sampling_rate,
                args.workers,
                args.soundfont,
                args.midi_share,
            )
    except (FileExistsError, FileNotFoundError, ValueError, RuntimeError, subprocess.CalledProcessError) as error:
        raise CommandError(str(error)) from error
    report["seconds"] = round(time.monotonic() - started, 1)
    partial = out / (CORPUS_FILE + ".partial")
    partial.write_text(json.dumps(report, indent=1) + "\n")
    os.replace(partial, out / CORPUS_FILE)
    print(summary(report))
    return 0


def summary(report: dict) -> str:
    """The lines `mono2stereo corpus` prints at the end."""
    lines = []
    songs = report.get("songs")
    if songs:
        for split in ("train", "heldout"):
            part = songs[split]
            lines.append(f"{split}: {part['songs']} songs, {part['hours']:.2f} h, {part['bytes'] / 1e9:.2f} GB")
        removed = ", ".join(f"{n} {rule}" for rule, n in songs["removed"].items()) or "none"
        lines.append(f"removed: {removed}; songs took {songs['seconds'] / 60:.1f} min")
    productions = report.get("productions")
    if productions:
        parts = ", ".join(
            f"{split} {productions[split]['songs']} songs, {productions[split]['hours']:.2f} h"
            for split in ("train", "heldout")
        )
        lines.append(
            f"productions: {parts}; {productions['removed']} removed; took {productions['seconds'] / 60:.1f} min"
        )
    mixes = report.get("multitrack")
    if mixes:
        lines.append(
            f"multitrack: {mixes['mixes']} mixes, {mixes['hours']:.2f} h, {mixes['bytes'] / 1e6:.0f} MB; "
            f"took {mixes['seconds'] / 60:.1f} min ({mixes['rendered_now']} rendered now)"
        )
    lines.append(f"this run: {report['seconds'] / 60:.1f} min")
    return "\n".join(lines)


PARSERS = {"corpus": corpus_arguments}  # see mono2stereo.cli

__all__ = ["PARSERS", "build_mixes", "build_productions", "build_songs", "default_cache_dir", "run_corpus", "summary"]
