"""Stereo productions that are not game music: the demo songs of LMMS, rendered from their projects.

Debian's `lmms-common` (in `main`) ships some 25 demo and short projects by LMMS users under free licences
(GPL-2+, Artistic-2, BSD-2-clause, CC-BY-SA-3 and 4; its copyright file says which). Each project holds its
producer's own mix: levels, pans, stereo effects. Rendered with the `lmms` command line (Debian's `lmms`,
installed with `apt-get install lmms`), they are the corpus's only records made outside games. They pan less and
are narrower than the game soundtracks (benchmarks/RESULTS.md, "LMMS productions").

`prepare_productions(OUT, CACHE)` fetches the package with `apt-get download`, unpacks its projects, renders each
once into `CACHE/lmms-renders/` (44.1 kHz WAV, kept), and cuts the songs with the game music's checks and segment
length into `OUT/productions/train` and `OUT/productions/heldout`. Whole authors are held out; the held-out songs
are also written whole to `OUT/productions/heldout-songs/` (FLAC at the render's rate), to be scored by
`mono2stereo eval --refs`. `OUT/productions/MANIFEST.tsv` names every song, its author, split, licence and
measures, and the rule of any song the checks removed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import soundfile
from tqdm.auto import tqdm

from .debian_music import cut_song, download, extract_members, licence_line, write_tsv

PACKAGE = "lmms-common"
PROJECT_FOLDERS = ("usr/share/lmms/projects/demos/", "usr/share/lmms/projects/shorties/")
PROJECT_EXTENSIONS = (".mmp", ".mmpz")
# Every third author in sorted order, from the third on, chosen by name alone before any model heard these songs.
HELDOUT_AUTHORS = ("Crunk", "Impulslogik", "Oglsdl", "Shovon", "StrictProduction", "Thomasso")
RENDER_RATE = 44100
RENDER_TIMEOUT_S = 900
MANIFEST_COLUMNS = ["song", "author", "split", "project", "licence", "duration_s", "width_db", "segments", "rule"]


def author(project: str) -> str:
    """A project's author, by LMMS's naming: `Author-Title.mmpz` (or a bare title, its own author)."""
    name = Path(project).name
    for extension in PROJECT_EXTENSIONS:
        name = name.removesuffix(extension)
    return name.split("-", 1)[0].split("(", 1)[0]


def split_of(project: str) -> str:
    return "heldout" if author(project) in HELDOUT_AUTHORS else "train"


def unpack_projects(deb: str, root: Path) -> list[str]:
    """The package's projects (paths inside it), unpacked under `root` with its copyright file."""
    found = []
    if not root.is_dir():
        partial = root.with_name(root.name + ".partial")
        extract_members(
            deb,
            str(partial),
            lambda name: (
                (name.startswith(PROJECT_FOLDERS) and name.endswith(PROJECT_EXTENSIONS))
                or name == f"usr/share/doc/{PACKAGE}/copyright"
            ),
        )
        os.rename(partial, root)
    for folder in PROJECT_FOLDERS:
        for path in sorted((root / folder).rglob("*")):
            if path.is_file() and path.name.endswith(PROJECT_EXTENSIONS):
                found.append(str(path.relative_to(root)))
    return found


def render_project(project: Path, wav: Path) -> None:
    """Render one LMMS project to a stereo WAV with the `lmms` command line, off screen."""
    lmms = shutil.which("lmms")
    if lmms is None:
        raise RuntimeError("rendering the LMMS productions needs LMMS: `apt-get install lmms`, or --skip-productions")
    command = [lmms, "render", str(project), "-o", str(wav), "-f", "wav", "-s", str(RENDER_RATE)]
    if os.geteuid() == 0:
        command.insert(1, "--allowroot")  # LMMS refuses root without it
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    try:
        result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=RENDER_TIMEOUT_S)
    except subprocess.TimeoutExpired as error:
        raise RuntimeError(f"lmms took over {RENDER_TIMEOUT_S} s to render {project.name}") from error
    if result.returncode != 0 or not wav.is_file():
        raise RuntimeError(f"lmms could not render {project.name}: {result.stderr.strip()[-300:]}")


def prepare_productions(output_dir: str | Path, cache: str | Path, sampling_rate: int = 32000) -> list[dict]:
    """Fetch, render (once), check and cut the LMMS productions; the manifest rows, removed songs included."""
    out, cache = Path(output_dir) / "productions", Path(cache)
    debs = download([PACKAGE], str(cache / "debian-music-debs"))
    unpacked = cache / "debian-music-debs" / "unpacked" / PACKAGE
    projects = unpack_projects(debs[PACKAGE], unpacked)
    if not projects:
        raise RuntimeError(f"{PACKAGE} holds no LMMS project under {' or '.join(PROJECT_FOLDERS)}")
    copyright_text = (unpacked / f"usr/share/doc/{PACKAGE}/copyright").read_text(errors="replace")
    renders = cache / "lmms-renders"
    renders.mkdir(parents=True, exist_ok=True)
    for split in ("train", "heldout", "heldout-songs"):
        shutil.rmtree(out / split, ignore_errors=True)  # the cut is cheap; a rerun writes it again whole
        (out / split).mkdir(parents=True)
    rows = []
    for rel in tqdm(projects, desc="rendering productions", unit="song"):
        name = Path(rel).name.split(".")[0]
        wav = renders / f"{name}.wav"
        if not wav.is_file():
            partial = renders / f"{name}.partial.wav"
            render_project(unpacked / rel, partial)
            os.replace(partial, wav)
        split = split_of(rel)
        fields = cut_song(str(wav), str(out / split), f"{PACKAGE}/{rel}", sampling_rate, 12.0)
        row = {"song": name, "author": author(rel), "split": split, "project": rel}
        row["licence"] = licence_line(copyright_text, rel.replace("usr/share/lmms/", "data/"))
        if fields is None:
            rows.append({**row, "duration_s": "", "width_db": "", "segments": 0, "rule": "mono or under 30 s"})
            continue
        rows.append({**row, **{k: fields[k] for k in ("duration_s", "width_db", "segments")}, "rule": fields["rule"]})
        if split == "heldout" and fields["rule"] is None:
            audio, rate = soundfile.read(wav, dtype="float32", always_2d=True)
            soundfile.write(out / "heldout-songs" / f"{name}.flac", audio, rate, format="FLAC", subtype="PCM_16")
    write_tsv(str(out / "MANIFEST.tsv"), MANIFEST_COLUMNS, [{**row, "rule": row["rule"] or ""} for row in rows])
    return rows


__all__ = ["HELDOUT_AUTHORS", "author", "prepare_productions", "render_project", "split_of", "unpack_projects"]
