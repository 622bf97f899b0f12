"""`mono2stereo corpus`: the songs and the multitrack renders in one command, resumable, with what each part took.

The Debian package is built here (`dpkg-deb`) and put in the download cache, so nothing is fetched; the renders
use TimGM6mb and random pieces only.
"""

import json
import shutil
from pathlib import Path

import pytest

from mono2stereo.cli import main
from mono2stereo.training import debian_music, lmms_productions
from tests.training.test_debian_music import build_deb, stereo
from tests.training.test_lmms_productions import build_lmms_deb, fake_render

pytest.importorskip("datasets")
TIMGM = Path("/usr/share/sounds/sf2/TimGM6mb.sf2")


@pytest.mark.slow  # dpkg-deb, cutting and fluidsynth: about 10 s
@pytest.mark.skipif(
    shutil.which("dpkg-deb") is None or shutil.which("fluidsynth") is None or not TIMGM.is_file(),
    reason="needs dpkg-deb, fluidsynth and timgm6mb-soundfont",
)
def test_one_command_builds_songs_and_mixes_and_resumes(tmp_path, monkeypatch, capsys):
    build_deb(tmp_path, "game-a-data", {"usr/share/games/a/music/one.flac": stereo(30, 0.3, seed=1)})
    build_deb(tmp_path, "game-b-data", {"usr/share/games/b/music/three.flac": stereo(36, 0.3, seed=4)})
    cache = tmp_path / "cache"
    cache.mkdir()
    build_lmms_deb(tmp_path)
    (tmp_path / "debs").rename(cache / "debian-music-debs")
    monkeypatch.setattr(debian_music, "PACKAGES", {"game-a-data": ("train", "puzzle"), "game-b-data": ("heldout", "")})
    renders = []
    monkeypatch.setattr(lmms_productions, "render_project", fake_render(renders))
    out = tmp_path / "corpus"
    argv = ["corpus", str(out), "--cache-dir", str(cache), "--sampling-rate", "16000", "--workers", "1"]
    argv += ["--mixes", "3", "--mix-seconds", "1", "--midi-share", "0", "--soundfont", str(TIMGM)]
    assert main(argv) == 0
    report = json.loads((out / "CORPUS.json").read_text())
    assert report["songs"]["train"]["songs"] == 1 and report["songs"]["heldout"]["songs"] == 1
    assert report["songs"]["train"]["hours"] == pytest.approx(30 / 3600, abs=1e-3)
    assert report["multitrack"]["mixes"] == 3 and report["multitrack"]["rendered_now"] == 3
    assert len(list((out / "multitrack").glob("shard-*.tar"))) == 1
    assert len(list((out / "train").glob("*.flac"))) == 2  # two whole 12 s segments of the 30 s song
    assert report["productions"]["train"]["songs"] == 1 and report["productions"]["heldout"]["songs"] == 1
    assert report["productions"]["removed"] == 2 and len(renders) == 4
    printed = capsys.readouterr().out
    assert "train: 1 songs" in printed and "productions: train 1 songs" in printed

    assert main(argv) == 1  # nothing is built over a corpus without --resume
    assert "pass --resume" in capsys.readouterr().err
    assert main([*argv, "--resume"]) == 0  # the songs come from the cache and no mix is rendered again
    report = json.loads((out / "CORPUS.json").read_text())
    assert report["multitrack"]["mixes"] == 3 and report["multitrack"]["rendered_now"] == 0
    assert report["songs"]["train"]["songs"] == 1 and len(list((out / "train").glob("*.flac"))) == 2
    assert len(renders) == 4  # the productions are not rendered again

    skipped = tmp_path / "no-productions"
    assert main([*argv[:1], str(skipped), *argv[2:], "--skip-songs", "--skip-productions", "--mixes", "0"]) == 0
    assert not (skipped / "productions").exists() and "productions" not in json.loads(
        (skipped / "CORPUS.json").read_text()
    )


def test_bad_values_are_refused_before_anything_runs(tmp_path, capsys):
    for option, value in (("--mixes", "-1"), ("--workers", "0"), ("--midi-share", "1.5"), ("--mix-seconds", "0")):
        assert main(["corpus", str(tmp_path / "out"), option, value]) == 1
        assert option in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
