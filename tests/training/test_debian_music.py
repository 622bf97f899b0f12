"""The Debian game-music preparation: song selection, checks, cutting, the train/held-out split and the manifest.

A real .deb is built here with `dpkg-deb` from audio the test writes; nothing is downloaded.
"""

import os
import shutil
import subprocess

import numpy as np
import pytest
import soundfile

from mono2stereo.training.config import TrainingConfig
from mono2stereo.training.debian_music import cut_song, is_music, is_music_package, licence_line, prepare
from mono2stereo.training.sources import list_audio_files
from tests import REPO

RATE = 16000


def stereo(seconds: float, side_gain: float, seed: int = 0) -> np.ndarray:
    """Noise "music" whose loudness changes every quarter second, so each song has its own envelope."""
    rng = np.random.default_rng(seed)
    count = int(seconds * RATE)
    envelope = np.repeat(rng.uniform(0.1, 1.0, int(seconds * 4) + 1), RATE // 4)[:count].astype(np.float32)
    mid = rng.standard_normal(count).astype(np.float32) * 0.1 * envelope
    side = rng.standard_normal(count).astype(np.float32) * 0.1 * side_gain * envelope
    return np.stack([mid + side, mid - side], axis=1)


def test_is_music_by_folder():
    assert is_music("usr/share/games/foo/music/theme.ogg")
    assert is_music("usr/share/games/foo/data/Music/level 1.flac")
    assert is_music("usr/share/games/frozen-bubble/snd/frozen-mainzik-1p.ogg")
    assert not is_music("usr/share/games/foo/sounds/night.ogg")  # ambience, not a song
    assert not is_music("usr/share/games/foo/music/readme.txt")
    assert is_music("usr/share/games/nexuiz/data/music.pk3.d/sound/cdtracks/beast.ogg")
    assert is_music("usr/share/games/warzone2100/music/albums/a/track1.opus")
    # A package of music alone keeps its songs anywhere but in its documentation.
    assert is_music("usr/share/scummvm/drascula/audio/track1.ogg", music_package=True)
    assert not is_music("usr/share/scummvm/drascula/audio/track1.ogg")
    assert not is_music("usr/share/doc/drascula-music/sample.ogg", music_package=True)
    assert is_music_package("drascula-music") and is_music_package("xblast-tnt-musics")
    assert not is_music_package("supertux-data")


def test_the_stage_3_recipe_reads_the_prepared_folders():
    config = TrainingConfig.from_yaml(REPO / "configs/train/default-24k-real.yaml")
    folders = [s.path for s in config.data.sources + config.data.eval_sources if s.kind == "folder"]
    assert folders == ["data/debian-music/train", "data/debian-music/heldout"]


def test_cut_song_writes_whole_segments_at_the_new_rate(tmp_path):
    song = tmp_path / "song.wav"
    soundfile.write(song, stereo(35, 0.3), RATE)
    out = tmp_path / "out"
    out.mkdir()
    fields = cut_song(str(song), str(out), "pkg/song", sampling_rate=8000, segment_s=10.0)
    assert fields["segments"] == 3 and fields["duration_s"] == 35.0 and fields["rule"] is None
    segments = sorted(out.iterdir())
    assert len(segments) == 3
    for path in segments:
        info = soundfile.info(path)
        assert (info.format, info.subtype) == ("FLAC", "PCM_16")
        assert (info.samplerate, info.channels, info.frames) == (8000, 2, 80000)


def test_cut_song_refuses_mono_and_short_files(tmp_path):
    mono, short = tmp_path / "mono.wav", tmp_path / "short.wav"
    soundfile.write(mono, stereo(40, 0.3)[:, 0], RATE)
    soundfile.write(short, stereo(10, 0.3), RATE)
    assert cut_song(str(mono), str(tmp_path), "a", RATE, 12.0) is None
    assert cut_song(str(short), str(tmp_path), "b", RATE, 12.0) is None
    assert cut_song(str(tmp_path / "missing.ogg"), str(tmp_path), "c", RATE, 12.0) is None


def build_deb(tmp_path, package: str, songs: dict[str, np.ndarray | bytes]) -> None:
    """`tmp_path/debs/PACKAGE_1.0_all.deb` holding `songs`: audio written at `RATE`, or bytes written as they are."""
    root = tmp_path / "build" / package
    (root / "DEBIAN").mkdir(parents=True)
    (root / "DEBIAN" / "control").write_text(
        f"Package: {package}\nVersion: 1.0\nArchitecture: all\nMaintainer: test <t@example.org>\nDescription: test\n"
    )
    for rel, content in songs.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            (root / rel).write_bytes(content)
        else:
            soundfile.write(root / rel, content, RATE)
    debs = tmp_path / "debs"
    debs.mkdir(exist_ok=True)
    subprocess.run(
        ["dpkg-deb", "--build", str(root), str(debs / f"{package}_1.0_all.deb")], check=True, capture_output=True
    )


@pytest.mark.slow  # dpkg-deb, a process pool and two packages: about 10 s
@pytest.mark.skipif(shutil.which("dpkg-deb") is None, reason="needs Debian's dpkg-deb")
@pytest.mark.slow  # over 4 s on a 2-core CPU
def test_prepare_splits_by_package_and_writes_a_manifest(tmp_path):
    build_deb(
        tmp_path,
        "game-a-data",
        {
            "usr/share/games/a/music/one.flac": stereo(30, 0.3, seed=1),
            "usr/share/games/a/music/two.flac": stereo(42, 0.15, seed=2),
            "usr/share/games/a/sounds/wind.flac": stereo(60, 1.0, seed=3),  # not under a music folder
        },
    )
    build_deb(tmp_path, "game-b-data", {"usr/share/games/b/music/three.flac": stereo(36, 0.3, seed=4)})
    out = tmp_path / "prepared"
    rows = prepare(
        str(out),
        str(tmp_path / "debs"),
        sampling_rate=8000,
        segment_s=12.0,
        packages={"game-a-data": ("train", "puzzle"), "game-b-data": ("heldout", "racing")},
        workers=1,
    )
    rows = rows[0]
    assert sorted((r["package"], os.path.basename(r["file"])) for r in rows) == [
        ("game-a-data", "one.flac"),
        ("game-a-data", "two.flac"),
        ("game-b-data", "three.flac"),
    ]
    assert len(list_audio_files(str(out / "train"))) == 2 + 3
    assert len(list_audio_files(str(out / "heldout"))) == 3
    manifest = (out / "MANIFEST.tsv").read_text().splitlines()
    header = manifest[0].split("\t")
    assert header == [
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
    table = [dict(zip(header, line.split("\t"))) for line in manifest[1:]]
    widths = {row["file"].rsplit("/", 1)[-1]: float(row["width_db"]) for row in table}
    assert widths["two.flac"] == pytest.approx(-16.5, abs=0.5) and widths["one.flac"] == pytest.approx(-10.5, abs=0.5)
    assert {row["genre"] for row in table if row["split"] == "heldout"} == {"racing"}
    with pytest.raises(FileExistsError):  # a second run never writes over a prepared set
        prepare(str(out), str(tmp_path / "debs"), packages={"game-a-data": ("train", "")}, workers=1)


def delayed_copy(seconds: float, delay_s: float, seed: int) -> np.ndarray:
    """Mono with one channel late by `delay_s`: the Haas "widener" that makes fake stereo."""
    mono = stereo(seconds, 0.0, seed)[:, 0]
    delay = int(delay_s * RATE)
    return np.stack([mono, np.concatenate([np.zeros(delay, np.float32), mono[:-delay]])], axis=1)


@pytest.mark.slow  # dpkg-deb, a process pool and two packages: about 10 s
@pytest.mark.skipif(shutil.which("dpkg-deb") is None, reason="needs Debian's dpkg-deb")
def test_prepare_keeps_one_real_song_of_a_duplicate_a_dual_mono_and_a_delayed_copy(tmp_path):
    real = stereo(40, 0.3, seed=5)
    dual_mono = np.repeat(stereo(40, 0.0, seed=6)[:, :1], 2, axis=1)
    build_deb(
        tmp_path,
        "game-c-data",
        {
            "usr/share/games/c/music/real.flac": real,
            "usr/share/games/c/music/dual.flac": dual_mono,
            "usr/share/games/c/music/haas.flac": delayed_copy(40, 0.012, seed=7),
        },
    )
    # The same song again, re-encoded as Ogg Vorbis, quieter and cut: in a held-out package, so that copy stays.
    build_deb(tmp_path, "game-d-music", {"usr/share/games/d/music/again.ogg": 0.5 * real[RATE // 2 :]})
    out = tmp_path / "prepared"
    rows, removed = prepare(
        str(out),
        str(tmp_path / "debs"),
        sampling_rate=8000,
        packages={"game-c-data": ("train", "puzzle"), "game-d-music": ("heldout", "puzzle")},
        workers=1,
    )
    assert [(r["package"], os.path.basename(r["file"])) for r in rows] == [("game-d-music", "again.ogg")]
    assert removed == {"duplicate": 1, "near-mono": 1, "delayed-copy": 1}
    with open(out / "REMOVED.tsv") as table:
        reasons = {
            line.split("\t")[1].rsplit("/", 1)[-1]: line.split("\t")[2] for line in table.read().splitlines()[1:]
        }
    assert reasons == {"real.flac": "duplicate", "dual.flac": "near-mono", "haas.flac": "delayed-copy"}
    assert not os.listdir(out / "train")  # the removed duplicate's segments are gone from training
    assert len(list_audio_files(str(out / "heldout"))) == 3


def test_licence_line_takes_the_last_matching_stanza():
    copyright_text = (
        "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\n"
        "Files: *\nCopyright: 2010 A\nLicense: GPL-2+\n This program is free software.\n\n"
        "Files: data/music/*\nCopyright: 2011 B\nLicense: CC-BY-SA-3.0\n\n"
        "License: CC-BY-SA-3.0\n Creative Commons text.\n"
    )
    assert licence_line(copyright_text, "usr/share/games/x/data/music/theme.ogg") == "CC-BY-SA-3.0"
    assert licence_line(copyright_text, "usr/share/games/x/sounds/hit.ogg") == "GPL-2+"
    assert licence_line("", "a/music/b.ogg") == "see copyright file"


def test_an_unknown_package_is_refused_before_anything_is_fetched(tmp_path, capsys):
    from mono2stereo.training.debian_music import main

    assert main([str(tmp_path / "out"), "--packages", "no-such-music"]) == 2
    assert "no-such-music not in the package list" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
