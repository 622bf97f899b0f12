"""General-MIDI pieces that Debian ships in `main`, fetched once and cut into excerpts for multitrack renders.

`MIDI_PACKAGES` names each package and where its pieces lie: Planet Blupi's and OpenTTD's (OpenMSX) soundtracks, the
example songs of MMA (Musical MIDI Accompaniment), and Freedoom's music, which lives as MIDI lumps (`D_*`) inside its
two WAD files. The packages are fetched with `apt-get download` (no install) into a cache folder; the pieces and each
package's copyright file are taken out of them (identical pieces once), and `MIDI.tsv` names every piece's package,
file, licence line, copyright file and length. `excerpts` cuts every piece into excerpts of a given length, each
saved as a small MIDI file of its parts (`midi_parts.excerpt_file`), once per length.
"""

from __future__ import annotations

import csv
import fnmatch
import hashlib
import io
import os
import struct
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path

import mido

from .debian_music import download, licence_line
from .midi_parts import excerpt_file, excerpt_starts, excerpts_parts, piece_length_s, timed_messages

# package -> the files that hold its pieces (fnmatch patterns on the path inside the package)
MIDI_PACKAGES = {
    "planetblupi-music-midi": ("usr/share/planetblupi/music/*.mid",),
    "openttd-openmsx": ("usr/share/games/openttd/baseset/openmsx/*.mid",),
    "mma": ("usr/share/doc/mma/examples/*.mid",),  # the example songs, not the groove library's loops
    "freedoom": ("usr/share/games/doom/*.wad",),
}
PIECE_COLUMNS = ["package", "file", "licence", "copyright", "duration_s", "path"]
EXCERPT_COLUMNS = ["package", "file", "start_s", "parts", "notes", "path"]
EXCERPTS_VERSION = 1  # raised when `midi_parts` cuts differently, so excerpts made before are cut again


@dataclass(frozen=True)
class Excerpt:
    """An excerpt of a piece: where it comes from, and its file of parts."""

    package: str
    file: str
    start_s: float
    path: str
    licence: str
    copyright: str


def wad_music(data: bytes) -> list[tuple[str, bytes]]:
    """The MIDI music lumps (`D_*`, starting `MThd`) of a Doom WAD, by lump name; MUS lumps are left out."""
    if data[:4] not in (b"IWAD", b"PWAD"):
        raise ValueError("not a WAD file: it does not start with IWAD or PWAD")
    count, directory = struct.unpack_from("<ii", data, 4)
    lumps = []
    for index in range(count):
        position, size, raw = struct.unpack_from("<ii8s", data, directory + 16 * index)
        name = raw.rstrip(b"\0").decode("ascii", "replace")
        if name.startswith("D_") and data[position : position + 4] == b"MThd":
            lumps.append((name, data[position : position + size]))
    return lumps


def package_pieces(deb: str, patterns: tuple[str, ...]) -> tuple[list[tuple[str, bytes]], str]:
    """The MIDI pieces `(path in the package, bytes)` of a .deb and its copyright text, streamed out of it."""
    pieces, copyright_text = [], ""
    stream = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", deb], stdout=subprocess.PIPE)
    with tarfile.open(fileobj=stream.stdout, mode="r|") as tar:
        for member in tar:
            name = member.name.lstrip("./")
            if not member.isfile():
                continue
            if name.startswith("usr/share/doc/") and name.endswith("/copyright"):
                copyright_text = tar.extractfile(member).read().decode("utf-8", "replace")
            elif any(fnmatch.fnmatch(name, pattern) for pattern in patterns):
                data = tar.extractfile(member).read()
                if name.lower().endswith(".wad"):
                    pieces += [(f"{name}/{lump}.mid", lump_data) for lump, lump_data in wad_music(data)]
                elif name.lower().endswith((".mid", ".midi")):
                    pieces.append((name, data))
    if stream.wait() != 0:
        raise subprocess.CalledProcessError(stream.returncode, ["dpkg-deb", "--fsys-tarfile", deb])
    return pieces, copyright_text


def _write_tsv(path: Path, columns: list[str], rows: list[dict]) -> None:
    partial = path.with_suffix(".partial")
    with open(partial, "w", newline="") as table:
        writer = csv.DictWriter(table, fieldnames=columns, delimiter="\t", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    os.replace(partial, path)


def _read_tsv(path: Path) -> list[dict]:
    with open(path, newline="") as table:
        return list(csv.DictReader(table, delimiter="\t"))


def midi_pieces(debs_dir: str | Path, packages: dict[str, tuple[str, ...]] | None = None) -> list[dict]:
    """The pieces of `packages` as `MIDI.tsv` rows, fetched and taken out once.

    Pieces land in `DEBS_DIR/midi/PACKAGE/...`; a rerun for the same packages reads `DEBS_DIR/midi/MIDI.tsv`.
    `packages=None` takes the pieces the folder holds, or, in a new folder, those of `MIDI_PACKAGES`.
    """
    root = Path(debs_dir) / "midi"
    manifest, listed = root / "MIDI.tsv", root / "PACKAGES"
    wanted = "".join(f"{name}\n" for name in sorted(packages or MIDI_PACKAGES))
    if manifest.is_file() and listed.is_file() and (packages is None or listed.read_text() == wanted):
        return _read_tsv(manifest)
    packages = packages or MIDI_PACKAGES
    debs = download(list(packages), str(debs_dir))
    rows, seen = [], set()
    for package, deb in debs.items():
        pieces, copyright_text = package_pieces(deb, packages[package])
        copyright_path = root / package / "usr/share/doc" / package / "copyright"
        copyright_path.parent.mkdir(parents=True, exist_ok=True)
        copyright_path.write_text(copyright_text)
        for rel, data in sorted(pieces):
            digest = hashlib.sha1(data).hexdigest()
            if digest in seen:  # the same piece twice (Freedoom's two WADs share songs)
                continue
            seen.add(digest)
            try:
                length = piece_length_s(timed_messages(mido.MidiFile(file=io.BytesIO(data))))
            except (OSError, ValueError, EOFError, KeyError, IndexError):
                continue  # a damaged or type 2 file is no piece
            target = root / package / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            container = rel.split(".wad/")[0] + ".wad" if ".wad/" in rel else rel  # a WAD's lumps: the WAD's licence
            rows.append(
                {
                    "package": package,
                    "file": rel,
                    "licence": licence_line(copyright_text, container),
                    "copyright": f"usr/share/doc/{package}/copyright",
                    "duration_s": round(length, 1),
                    "path": str(target.relative_to(root)),
                }
            )
    _write_tsv(manifest, PIECE_COLUMNS, rows)
    listed.write_text(wanted)
    return _read_tsv(manifest)


def excerpts(
    debs_dir: str | Path, seconds: float, packages: dict[str, tuple[str, ...]] | None = None
) -> list[Excerpt]:
    """Every piece of the packages cut into excerpts of `seconds`, each a MIDI file of its parts, made once."""
    root = Path(debs_dir) / "midi"
    pieces = midi_pieces(debs_dir, packages)
    folder = root / f"excerpts-{seconds:g}s"
    index, listed = folder / "EXCERPTS.tsv", folder / "PIECES"
    wanted = f"version {EXCERPTS_VERSION}\n" + "".join(f"{p['package']}\t{p['file']}\n" for p in pieces)
    if index.is_file() and listed.is_file() and listed.read_text() == wanted:
        return _excerpts_of(_read_tsv(index), pieces, folder)
    rows = []
    folder.mkdir(parents=True, exist_ok=True)
    for piece in pieces:
        messages = timed_messages(mido.MidiFile(root / piece["path"]))
        stem = hashlib.sha1(f"{piece['package']}/{piece['file']}".encode()).hexdigest()[:12]
        starts = excerpt_starts(messages, seconds)
        for start, parts in zip(starts, excerpts_parts(messages, starts, seconds)):
            name = f"{stem}-{int(round(start * 1000)):08d}.mid"
            excerpt_file(parts).save(folder / name)
            notes = sum(part.note_count for part in parts)
            row = {"package": piece["package"], "file": piece["file"], "start_s": round(start, 3)}
            rows.append({**row, "parts": len(parts), "notes": notes, "path": name})
    _write_tsv(index, EXCERPT_COLUMNS, rows)
    listed.write_text(wanted)
    return _excerpts_of(_read_tsv(index), pieces, folder)


def _excerpts_of(rows: list[dict], pieces: list[dict], folder: Path) -> list[Excerpt]:
    about = {(p["package"], p["file"]): p for p in pieces}
    return [
        Excerpt(
            r["package"],
            r["file"],
            float(r["start_s"]),
            str(folder / r["path"]),
            about[(r["package"], r["file"])]["licence"],
            about[(r["package"], r["file"])]["copyright"],
        )
        for r in rows
    ]


__all__ = ["MIDI_PACKAGES", "Excerpt", "excerpts", "midi_pieces", "package_pieces", "wad_music"]
