"""Real stereo music to train on: the game soundtracks that Debian ships under free licences.

`python -m mono2stereo.training.debian_music OUT` fetches the packages of `PACKAGES` with `apt-get download` (no
install, no root needed to unpack), unpacks them with `dpkg -x`, keeps their stereo music files and cuts each song
into segments at the codec's rate, written as 16-bit WAV in `OUT/train` and `OUT/heldout`. Whole packages are held
out, so no composer's song is on both sides. `OUT/MANIFEST.tsv` names the package, file, copyright file, duration
and width of every song. Both folders are `kind: folder` sources for `mono2stereo train`. Segment names are hashes,
so the sorted order (a folder source's shard order) interleaves songs.
"""

from __future__ import annotations

import argparse
import csv
import glob
import hashlib
import os
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import soundfile
import soxr
from tqdm.auto import tqdm

from ..evaluation.metrics import stereo_width_db
from .sources import AUDIO_EXTENSIONS

# package -> split. The held-out packages were chosen before any training on this data.
PACKAGES = {
    "wesnoth-1.16-music": "train",
    "supertux-data": "train",
    "supertuxkart-data": "train",
    "hedgewars-data": "train",
    "widelands-data": "train",
    "warzone2100-music": "train",
    "freedroidrpg-data": "train",
    "megaglest-data": "train",
    "neverball-data": "train",
    "lincity-ng-data": "heldout",
    "frozen-bubble-data": "heldout",
    "extremetuxracer-data": "heldout",
}
MUSIC_FOLDERS = ("music", "musics", "bgm")  # a song lies under a folder of one of these names
MIN_SONG_S = 30.0  # shorter files are jingles and effects


def download(packages: list[str], debs_dir: str) -> dict[str, str]:
    """`apt-get download` each package into `debs_dir` (kept, so a second run fetches nothing): package -> .deb."""
    os.makedirs(debs_dir, exist_ok=True)
    found = {}
    for package in packages:
        matches = glob.glob(os.path.join(debs_dir, f"{package}_*.deb"))
        if not matches:
            subprocess.run(["apt-get", "download", package], cwd=debs_dir, check=True)
            matches = glob.glob(os.path.join(debs_dir, f"{package}_*.deb"))
        found[package] = sorted(matches)[-1]
    return found


def is_music(path: str) -> bool:
    """Whether a file is a song by its place: under a music folder (`frozen-bubble` names its songs `*zik*`)."""
    folders = [part.lower() for part in os.path.dirname(path).split(os.sep)]
    name = os.path.basename(path).lower()
    return name.endswith(AUDIO_EXTENSIONS) and (any(f in MUSIC_FOLDERS for f in folders) or "zik" in name)


def cut_song(path: str, out_dir: str, song_id: str, sampling_rate: int, segment_s: float) -> dict | None:
    """Write the song's whole segments to `out_dir`; its manifest fields, or None for a mono, short or bad file."""
    try:
        audio, rate = soundfile.read(path, dtype="float32", always_2d=True)
    except Exception:  # soundfile raises several types for files it cannot read
        return None
    duration = len(audio) / rate
    if audio.shape[1] != 2 or duration < MIN_SONG_S or not np.isfinite(audio).all():
        return None
    audio = soxr.resample(audio, rate, sampling_rate)
    length = int(segment_s * sampling_rate)
    count = len(audio) // length
    for index in range(count):
        name = hashlib.sha1(f"{song_id}:{index}".encode()).hexdigest()[:16]
        segment = audio[index * length : (index + 1) * length]
        soundfile.write(os.path.join(out_dir, f"{name}.wav"), segment, sampling_rate, subtype="PCM_16")
    return {"duration_s": round(duration, 1), "width_db": round(stereo_width_db(audio), 2), "segments": count}


def prepare(
    output_dir: str,
    debs_dir: str,
    sampling_rate: int = 24000,
    segment_s: float = 12.0,
    packages: dict[str, str] | None = None,
    workers: int = 2,
) -> list[dict]:
    """Fetch, unpack, select and cut; returns the manifest rows (also written to `OUTPUT_DIR/MANIFEST.tsv`)."""
    packages = packages or PACKAGES
    if os.path.exists(os.path.join(output_dir, "MANIFEST.tsv")):
        raise FileExistsError(f"{output_dir} already holds a prepared set (MANIFEST.tsv); choose another folder")
    debs = download(list(packages), debs_dir)
    jobs = []  # (package, path inside the package, path on disk)
    for package, deb in debs.items():
        root = os.path.join(debs_dir, "unpacked", package)
        if not os.path.isdir(root):
            os.makedirs(os.path.dirname(root), exist_ok=True)
            subprocess.run(["dpkg", "-x", deb, root], check=True)
        os.makedirs(os.path.join(output_dir, packages[package]), exist_ok=True)
        for path in sorted(glob.glob(os.path.join(root, "**", "*"), recursive=True)):
            rel = os.path.relpath(path, root)
            if os.path.isfile(path) and is_music(rel):
                jobs.append((package, rel, path))
    rows = []
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = [
            pool.submit(
                cut_song,
                path,
                os.path.join(output_dir, packages[package]),
                f"{package}/{rel}",
                sampling_rate,
                segment_s,
            )
            for package, rel, path in jobs
        ]
        for (package, rel, _), future in tqdm(zip(jobs, futures), total=len(jobs), desc="cutting songs", unit="song"):
            fields = future.result()
            if fields is not None:
                copyright_file = os.path.join("usr/share/doc", package, "copyright")
                rows.append({"package": package, "split": packages[package], "file": rel, "copyright": copyright_file})
                rows[-1].update(fields)
    with open(os.path.join(output_dir, "MANIFEST.tsv"), "w", newline="") as manifest:
        columns = ["package", "split", "file", "copyright", "duration_s", "width_db", "segments"]
        writer = csv.DictWriter(manifest, fieldnames=columns, delimiter="\t", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mono2stereo.training.debian_music", description=__doc__)
    parser.add_argument("output_dir", help="where train/, heldout/ and MANIFEST.tsv go")
    parser.add_argument("--debs-dir", default=None, help="where the .deb files are kept (default OUTPUT_DIR/debs)")
    parser.add_argument("--sampling-rate", type=int, default=24000, help="the codec's rate (default 24000)")
    parser.add_argument("--segment-seconds", type=float, default=12.0)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    try:
        rows = prepare(
            args.output_dir,
            args.debs_dir or os.path.join(args.output_dir, "debs"),
            args.sampling_rate,
            args.segment_seconds,
            workers=args.workers,
        )
    except (FileExistsError, subprocess.CalledProcessError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for split in ("train", "heldout"):
        chosen = [r for r in rows if r["split"] == split]
        hours = sum(r["duration_s"] for r in chosen) / 3600
        print(f"{split}: {len(chosen)} songs, {hours:.1f} h, {sum(r['segments'] for r in chosen)} segments")
    return 0


if __name__ == "__main__":
    sys.exit(main())
