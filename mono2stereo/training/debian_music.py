"""Real stereo music to train on: the game soundtracks that Debian ships in `main` under free licences.

`python -m mono2stereo.training.debian_music OUT` fetches the packages of `PACKAGES` with `apt-get download` (no
install), unpacks them with `dpkg -x` (and the music inside `.pk3`/`.zip` game archives), keeps the stereo songs
under music folders, drops near-mono songs, delayed-copy "stereo" and duplicates (`song_checks`), and cuts every
song into segments at the codec's rate, written as 16-bit FLAC in `OUT/train` and `OUT/heldout`. Whole packages are
held out, so no composer's song is on both sides; a song found in both keeps its held-out copy. `OUT/MANIFEST.tsv`
names the package, file, game genre, licence, copyright file, duration, width and L/R correlation of every kept song;
`OUT/REMOVED.tsv` names every removed song and the rule. Both folders are `kind: folder` sources for
`mono2stereo train`. Segment names are hashes, so the sorted order (a folder source's shard order) interleaves songs.
"""

from __future__ import annotations

import argparse
import csv
import fnmatch
import glob
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from collections import Counter
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import soundfile
import soxr
from tqdm.auto import tqdm

from ..audio import AUDIO_EXTENSIONS
from .song_checks import duplicate_groups, find_duplicates, measure_song

# package -> (split, the game's genre as its description says it). The music's own genre is not labelled.
# Held out: lincity-ng-data, frozen-bubble-data and extremetuxracer-data were chosen before any training on this
# data; fb-music-high is Frozen Bubble's songs again. hyperrogue-music (60 MB), asc-music (10 MB) and
# marsshooter-data (68 MB) were added for hours (>= 1.5 h) and genre breadth, chosen by package size, description
# and song durations alone, before any model was trained or scored on this corpus. Never changed after.
# The first 12 packages, the set the spatial-token model was trained on (9.2 h train, 0.5 h held out).
FIRST_PACKAGES = (
    "wesnoth-1.16-music",
    "supertux-data",
    "supertuxkart-data",
    "hedgewars-data",
    "widelands-data",
    "warzone2100-music",
    "freedroidrpg-data",
    "megaglest-data",
    "neverball-data",
    "lincity-ng-data",
    "frozen-bubble-data",
    "extremetuxracer-data",
)
PACKAGES = {
    "lincity-ng-data": ("heldout", "city simulation"),
    "frozen-bubble-data": ("heldout", "puzzle"),
    "fb-music-high": ("heldout", "puzzle"),
    "extremetuxracer-data": ("heldout", "racing"),
    "hyperrogue-music": ("heldout", "roguelike"),
    "asc-music": ("heldout", "turn-based strategy"),
    "marsshooter-data": ("heldout", "space shooter"),
    "wesnoth-1.16-music": ("train", "turn-based strategy"),
    "supertux-data": ("train", "platformer"),
    "supertuxkart-data": ("train", "racing"),
    "hedgewars-data": ("train", "artillery"),
    "widelands-data": ("train", "real-time strategy"),
    "warzone2100-music": ("train", "real-time strategy"),
    "freedroidrpg-data": ("train", "role-playing"),
    "megaglest-data": ("train", "real-time strategy"),
    "neverball-data": ("train", "arcade"),
    "ufoai-music": ("train", "tactical strategy"),
    "nexuiz-music": ("train", "first-person shooter"),
    "planetblupi-music-ogg": ("train", "puzzle"),
    "singularity-music": ("train", "strategy"),
    "drascula-music": ("train", "adventure"),
    "openarena-data": ("train", "first-person shooter"),
    "openarena-088-data": ("train", "first-person shooter"),
    "flare-game": ("train", "role-playing"),
    "trigger-rally-data": ("train", "racing"),
    "fillets-ng-data": ("train", "puzzle"),
    "openclonk-data": ("train", "action"),
    "xmoto-data": ("train", "racing"),
    "redeclipse-data": ("train", "first-person shooter"),
    "berusky2-data": ("train", "puzzle"),
    "enigma-data": ("train", "puzzle"),
    "lordsawar-data": ("train", "turn-based strategy"),
    "btanks-data": ("train", "action"),
    "scorched3d-data": ("train", "artillery"),
    "cube2-data": ("train", "first-person shooter"),
    "naev-data": ("train", "space trading"),
    "warmux-data": ("train", "artillery"),
    "ardentryst": ("train", "role-playing"),
    "gcompris-qt-data": ("train", "educational"),
    "pushover-data": ("train", "puzzle"),
    "caveexpress-data": ("train", "platformer"),
    "tuxmath-data": ("train", "educational"),
    "tuxtype-data": ("train", "educational"),
    "noiz2sa-data": ("train", "shoot 'em up"),
    "torus-trooper-data": ("train", "shoot 'em up"),
    "parsec47-data": ("train", "shoot 'em up"),
    "tumiki-fighters-data": ("train", "shoot 'em up"),
    "gunroar-data": ("train", "shoot 'em up"),
    "mu-cade-data": ("train", "shoot 'em up"),
    "titanion-data": ("train", "shoot 'em up"),
    "pingus-data": ("train", "puzzle"),
    "alienblaster-data": ("train", "shoot 'em up"),
    "funnyboat": ("train", "shoot 'em up"),
    "powermanga-data": ("train", "shoot 'em up"),
    "stormbaancoureur-data": ("train", "racing"),
    "holotz-castle-data": ("train", "platformer"),
    "plee-the-bear-data": ("train", "platformer"),
    "starfighter-data": ("train", "space shooter"),
    "trackballs-data": ("train", "arcade"),
    "pink-pony-data": ("train", "racing"),
    "zaz-data": ("train", "puzzle"),
    "wizznic-data": ("train", "puzzle"),
    "raincat-data": ("train", "puzzle"),
    "pax-britannica-data": ("train", "real-time strategy"),
    "tomatoes-data": ("train", "arcade"),
    "trophy-data": ("train", "racing"),
    "colobot-common-sounds": ("train", "educational programming"),
}
MUSIC_FOLDERS = ("music", "musics", "bgm", "cdtracks", "backgroundmusic")  # a song lies under one of these
ARCHIVE_EXTENSIONS = (".pk3", ".zip")  # game archives whose music is unpacked too
MIN_SONG_S = 30.0  # shorter files are jingles and effects
MANIFEST_COLUMNS = [
    "package",
    "split",
    "genre",
    "file",
    "licence",
    "copyright",
    "duration_s",
    "width_db",
    "lr_correlation",
    "segments",
]


def check_main_archive(packages: list[str]) -> None:
    """Refuse a package that apt would fetch from outside Debian's `main` archive area."""
    shown = subprocess.run(
        ["apt-cache", "show", "--no-all-versions", *packages], capture_output=True, text=True, check=True
    ).stdout
    areas, package = {}, None
    for line in shown.splitlines():
        if line.startswith("Package: "):
            package = line.split(": ", 1)[1]
        elif line.startswith("Filename: ") and package:
            areas[package] = line.split(": ", 1)[1].split("/")[1]
    outside = {p: areas.get(p, "unknown") for p in packages if areas.get(p) != "main"}
    if outside:
        raise ValueError(f"packages not in Debian main: {outside}; drop them from the package list")


def download(packages: list[str], debs_dir: str) -> dict[str, str]:
    """`apt-get download` each package into `debs_dir` (kept, so a second run fetches nothing): package -> .deb."""
    os.makedirs(debs_dir, exist_ok=True)
    missing = [p for p in packages if not glob.glob(os.path.join(debs_dir, f"{p}_*.deb"))]
    if missing:
        check_main_archive(missing)
    found = {}
    for package in tqdm(packages, desc="fetching packages", unit="package"):
        if package in missing:
            subprocess.run(["apt-get", "download", package], cwd=debs_dir, check=True, capture_output=True)
        found[package] = sorted(glob.glob(os.path.join(debs_dir, f"{package}_*.deb")))[-1]
    return found


def is_music(path: str, music_package: bool = False) -> bool:
    """Whether a file is a song by its place: under a music folder (`frozen-bubble` names its songs `*zik*`), or
    anywhere in a package of music alone (`music_package`, e.g. `drascula-music`)."""
    folders = [part.lower() for part in os.path.dirname(path).split(os.sep)]
    name = os.path.basename(path).lower()
    placed = music_package or any(f in MUSIC_FOLDERS for f in folders) or "zik" in name
    return name.endswith(AUDIO_EXTENSIONS) and placed and not path.startswith(("usr/share/doc/", "./usr/share/doc/"))


def is_music_package(package: str) -> bool:
    """Whether a package holds music alone, by Debian's naming (`*-music`, `*-musics`, `*-music-ogg`)."""
    return any(part in ("music", "musics") for part in package.split("-"))


def _wanted(name: str, music_package: bool = False) -> bool:
    """A member of a package worth unpacking: a song, a game archive or the copyright file."""
    name = name.lstrip("./")
    lowered = name.lower()
    return (
        is_music(name, music_package)
        or lowered.endswith(ARCHIVE_EXTENSIONS)
        or (name.startswith("usr/share/doc/") and name.endswith("/copyright"))
    )


def extract_members(deb: str, folder: str, wanted) -> None:
    """Write the files of a package whose paths (without `./`) `wanted(path)` accepts into a new `folder`.

    The package's file tree is streamed (`dpkg-deb --fsys-tarfile`), so nothing else touches the disk.
    """
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    stream = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", deb], stdout=subprocess.PIPE)
    with tarfile.open(fileobj=stream.stdout, mode="r|") as tar:
        for member in tar:
            name = member.name.lstrip("./")
            if member.isfile() and wanted(name):
                target = os.path.join(folder, os.path.normpath(name))
                os.makedirs(os.path.dirname(target), exist_ok=True)
                with tar.extractfile(member) as source, open(target, "wb") as copy:
                    shutil.copyfileobj(source, copy)
    if stream.wait() != 0:
        raise subprocess.CalledProcessError(stream.returncode, ["dpkg-deb", "--fsys-tarfile", deb])


def unpack(deb: str, root: str, music_package: bool = False) -> None:
    """Unpack a package's songs and copyright file into `root`, and the songs of its game archives into `ARCHIVE.d/`.

    The package's file tree is streamed (`dpkg-deb --fsys-tarfile`), so textures and code never touch the disk.
    """
    if os.path.isdir(root):
        return
    partial = root + ".partial"
    extract_members(deb, partial, lambda name: _wanted(name, music_package))
    for archive in glob.glob(os.path.join(partial, "**", "*"), recursive=True):
        if archive.lower().endswith(ARCHIVE_EXTENSIONS) and zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as opened:
                songs = [name for name in opened.namelist() if is_music(name)]
                opened.extractall(archive + ".d", members=songs)
            os.remove(archive)  # the rest of the archive is not music
    os.rename(partial, root)


def licence_line(copyright_text: str, rel: str) -> str:
    """The `License:` of the last machine-readable copyright stanza whose `Files:` matches `rel` (or its tail)."""
    tails = ["/".join(rel.split("/")[k:]) for k in range(len(rel.split("/")))]
    chosen, first = None, None
    for stanza in copyright_text.split("\n\n"):
        fields, key = {}, None
        for line in stanza.splitlines():
            if line[:1] in (" ", "\t") and key:
                if key != "license":  # a licence's first line names it; the text follows
                    fields[key] += " " + line.strip()
            elif ":" in line:
                key, value = line.split(":", 1)
                key = key.strip().lower()
                fields[key] = value.strip()
        if "license" not in fields:
            continue
        first = first or fields["license"]
        patterns = fields.get("files", "").split()
        if any(fnmatch.fnmatch(tail, pattern) for pattern in patterns for tail in tails):
            chosen = fields["license"]
    return (chosen or first or "see copyright file")[:120]


def cut_song(path: str, out_dir: str, song_id: str, sampling_rate: int, segment_s: float) -> dict | None:
    """Measure a song and, unless a rule rejects it, write its whole segments to `out_dir` as 16-bit FLAC.

    Returns None for a mono, short or unreadable file; else its manifest fields, `rule` (None when kept), the
    segment names and the fingerprint.
    """
    try:
        audio, rate = soundfile.read(path, dtype="float32", always_2d=True)
    except Exception:  # soundfile raises several types for files it cannot read
        return None
    duration = len(audio) / rate
    if audio.shape[1] != 2 or duration < MIN_SONG_S or not np.isfinite(audio).all():
        return None
    audio = soxr.resample(audio, rate, sampling_rate)
    measures = measure_song(audio, sampling_rate)
    fields = {
        "duration_s": round(duration, 1),
        "width_db": round(measures.width_db, 2),
        "lr_correlation": round(measures.lr_correlation, 3),
        "copy_correlation": round(measures.copy_correlation, 3),
        "rule": measures.rejection(),
        "names": [],
        "fingerprint": measures.fingerprint,
    }
    if fields["rule"] is None:
        length = int(segment_s * sampling_rate)
        for index in range(len(audio) // length):
            name = hashlib.sha1(f"{song_id}:{index}".encode()).hexdigest()[:16] + ".flac"
            segment = audio[index * length : (index + 1) * length]
            soundfile.write(os.path.join(out_dir, name), segment, sampling_rate, format="FLAC", subtype="PCM_16")
            fields["names"].append(name)
    fields["segments"] = len(fields["names"])
    return fields


def _cached_cut(cache: str, path: str, out_dir: str, song_id: str, sampling_rate: int, segment_s: float):
    """`cut_song` through a per-song cache in `cache`, so a rerun with more packages redoes nothing."""
    record = os.path.join(cache, hashlib.sha1(song_id.encode()).hexdigest() + ".npz")
    if os.path.exists(record):
        with np.load(record) as stored:
            fields = json.loads(str(stored["fields"]))
            if fields is None:
                return None
            if all(os.path.exists(os.path.join(out_dir, n)) for n in fields["names"]):
                fields["fingerprint"] = stored["fingerprint"]
                return fields
    fields = cut_song(path, out_dir, song_id, sampling_rate, segment_s)
    stored = {k: v for k, v in (fields or {}).items() if k != "fingerprint"}
    fingerprint = fields["fingerprint"] if fields else np.zeros((0, 0), np.float32)
    np.savez(record + ".tmp.npz", fields=json.dumps(stored if fields else None), fingerprint=fingerprint)
    os.replace(record + ".tmp.npz", record)
    return fields


def find_songs(packages: dict[str, tuple[str, str]], debs: dict[str, str], debs_dir: str) -> list[tuple]:
    """(package, path inside the package, path on disk) of every song-like file of the packages."""
    jobs = []
    for package, deb in tqdm(debs.items(), desc="unpacking", unit="package"):
        root = os.path.join(debs_dir, "unpacked", package)
        unpack(deb, root, is_music_package(package))
        for path in sorted(glob.glob(os.path.join(root, "**", "*"), recursive=True)):
            rel = os.path.relpath(path, root)
            if os.path.isfile(path) and is_music(rel, is_music_package(package)):
                jobs.append((package, rel, path))
    return jobs


def _read_copyright(debs_dir: str, package: str) -> str:
    path = os.path.join(debs_dir, "unpacked", package, "usr/share/doc", package, "copyright")
    try:
        with open(path, encoding="utf-8", errors="replace") as opened:
            return opened.read()
    except OSError:
        return ""


def prepare(
    output_dir: str,
    debs_dir: str,
    sampling_rate: int = 32000,
    segment_s: float = 12.0,
    packages: dict[str, tuple[str, str]] | None = None,
    workers: int = 2,
    resume: bool = False,
) -> tuple[list[dict], Counter]:
    """Fetch, unpack, select, check, dedupe and cut; the manifest rows and the removal count per rule.

    The rows are also written to `OUTPUT_DIR/MANIFEST.tsv`, the removed songs to `OUTPUT_DIR/REMOVED.tsv`.
    """
    packages = packages or PACKAGES
    if os.path.exists(os.path.join(output_dir, "MANIFEST.tsv")) and not resume:
        raise FileExistsError(f"{output_dir} already holds a prepared set (MANIFEST.tsv); choose another folder")
    cache = os.path.join(output_dir, "songs")
    for folder in ("train", "heldout", "songs"):
        os.makedirs(os.path.join(output_dir, folder), exist_ok=True)
    jobs = find_songs(packages, download(list(packages), debs_dir), debs_dir)
    results = []
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = [
            pool.submit(
                _cached_cut,
                cache,
                path,
                os.path.join(output_dir, packages[package][0]),
                f"{package}/{rel}",
                sampling_rate,
                segment_s,
            )
            for package, rel, path in jobs
        ]
        for future in tqdm(futures, desc="cutting songs", unit="song"):
            results.append(future.result())
    songs = [(job, fields) for job, fields in zip(jobs, results) if fields is not None]
    removed = Counter()
    removals = []
    kept = []
    for (package, rel, _), fields in songs:
        if fields["rule"] is not None:
            removed[fields["rule"]] += 1
            removals.append(
                (package, rel, fields["rule"], f"width {fields['width_db']} dB, copy {fields['copy_correlation']}")
            )
        else:
            kept.append(((package, rel), fields))
    duplicate_of = _dedupe(kept, packages)
    rows = []
    for (package, rel), fields in kept:
        split, genre = packages[package]
        if (package, rel) in duplicate_of:
            removed["duplicate"] += 1
            removals.append((package, rel, "duplicate", "of " + "/".join(duplicate_of[(package, rel)])))
            for name in fields["names"]:
                os.remove(os.path.join(output_dir, split, name))
            continue
        rows.append(
            {
                "package": package,
                "split": split,
                "genre": genre,
                "file": rel,
                "licence": licence_line(_read_copyright(debs_dir, package), rel),
                "copyright": os.path.join("usr/share/doc", package, "copyright"),
                **{k: fields[k] for k in ("duration_s", "width_db", "lr_correlation", "segments")},
            }
        )
    write_tsv(os.path.join(output_dir, "MANIFEST.tsv"), MANIFEST_COLUMNS, rows)
    removal_rows = [dict(zip(("package", "file", "rule", "detail"), r)) for r in removals]
    write_tsv(os.path.join(output_dir, "REMOVED.tsv"), ["package", "file", "rule", "detail"], removal_rows)
    return rows, removed


def _dedupe(kept: list, packages: dict[str, tuple[str, str]]) -> dict[tuple[str, str], tuple[str, str]]:
    """Duplicate song -> the copy that stays: held-out first (no training song heard in evaluation), then longest."""
    pairs = find_duplicates([fields["fingerprint"] for _, fields in kept])
    duplicate_of = {}
    for group in duplicate_groups(len(kept), pairs):
        ranked = sorted(group, key=lambda i: (packages[kept[i][0][0]][0] != "heldout", -kept[i][1]["duration_s"], i))
        for i in ranked[1:]:
            duplicate_of[kept[i][0]] = kept[ranked[0]][0]
    return duplicate_of


def write_tsv(path: str, columns: list[str], rows: list[dict]) -> None:
    """Rows as a tab-separated table with a header line."""
    with open(path, "w", newline="") as table:
        writer = csv.DictWriter(table, fieldnames=columns, delimiter="\t", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mono2stereo.training.debian_music", description=__doc__)
    parser.add_argument("output_dir", help="where train/, heldout/, MANIFEST.tsv and REMOVED.tsv go")
    parser.add_argument("--debs-dir", default=None, help="where the .deb files are kept (default OUTPUT_DIR/debs)")
    parser.add_argument("--sampling-rate", type=int, default=32000, help="the codec's rate (default 32000)")
    parser.add_argument("--segment-seconds", type=float, default=12.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--resume", action="store_true", help="reuse the songs already cut into OUTPUT_DIR")
    parser.add_argument(
        "--packages",
        nargs="+",
        metavar="PACKAGE",
        help="only these packages of the list (each keeps its split); `first` names the 12 of the first set",
    )
    args = parser.parse_args(argv)
    names = list(FIRST_PACKAGES) if args.packages == ["first"] else args.packages
    unknown = [name for name in names or [] if name not in PACKAGES]
    if unknown:
        print(
            f"error: {', '.join(unknown)} not in the package list; choose from {', '.join(PACKAGES)}", file=sys.stderr
        )
        return 2
    try:
        rows, removed = prepare(
            args.output_dir,
            args.debs_dir or os.path.join(args.output_dir, "debs"),
            args.sampling_rate,
            args.segment_seconds,
            packages={name: PACKAGES[name] for name in names} if names else None,
            workers=args.workers,
            resume=args.resume,
        )
    except (FileExistsError, ValueError, subprocess.CalledProcessError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for split in ("train", "heldout"):
        chosen = [r for r in rows if r["split"] == split]
        hours = sum(r["duration_s"] for r in chosen) / 3600
        print(f"{split}: {len(chosen)} songs, {hours:.1f} h, {sum(r['segments'] for r in chosen)} segments")
    print("removed: " + (", ".join(f"{n} {rule}" for rule, n in sorted(removed.items())) or "none"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
