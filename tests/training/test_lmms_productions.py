"""The LMMS productions: authors held out whole, songs rendered once and cut with the game music's checks.

A real `lmms-common` .deb is built here with `dpkg-deb` from project files the test writes; the renderer is
replaced by one that writes noise "music" of a width per project, so neither LMMS nor the network is needed.
"""

import shutil

import numpy as np
import pytest
import soundfile

from mono2stereo.training import lmms_productions
from mono2stereo.training.lmms_productions import author, prepare_productions, render_project, split_of
from tests.training.test_debian_music import RATE, build_deb, stereo

COPYRIGHT = """Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/

Files: *
Copyright: LMMS developers
License: GPL-2+

Files: data/projects/demos/Oglsdl-*
Copyright: Oglsdl
License: Artistic-2
"""
PROJECTS = {  # project -> (seconds, side gain): a wide song, a narrow one, a near-mono one and a short one
    "usr/share/lmms/projects/demos/Oglsdl-PpTrip.mmpz": (30, 0.4),
    "usr/share/lmms/projects/demos/Skiessi/Skiessi-Onion.mmpz": (26, 0.3),
    "usr/share/lmms/projects/demos/Momo64-esp.mmpz": (40, 0.02),
    "usr/share/lmms/projects/shorties/DirtyLove.mmpz": (36, 0.3),
}


def build_lmms_deb(tmp_path):
    """`tmp_path/debs/lmms-common_1.0_all.deb`: the projects, a template and a sample (no songs), the copyright."""
    files = {rel: b"<lmms-project/>" for rel in PROJECTS}
    files["usr/share/lmms/projects/templates/Empty.mpt"] = b"<lmms-project/>"
    files["usr/share/lmms/samples/kick.ogg"] = b"OggS"
    files["usr/share/doc/lmms-common/copyright"] = COPYRIGHT.encode()
    build_deb(tmp_path, "lmms-common", files)


def fake_render(calls):
    def render(project, wav):
        calls.append(project.name)
        rel = next(rel for rel in PROJECTS if rel.endswith(project.name))
        seconds, side = PROJECTS[rel]
        soundfile.write(wav, stereo(seconds, side, seed=len(calls)), RATE, format="WAV")

    return render


def test_authors_are_held_out_whole():
    assert author("usr/share/lmms/projects/demos/CapDan/CapDan-ReggaeTry.mmpz") == "CapDan"
    assert author("usr/share/lmms/projects/shorties/Crunk(Demo).mmp") == "Crunk"
    assert author("usr/share/lmms/projects/shorties/DirtyLove.mmpz") == "DirtyLove"
    assert split_of("usr/share/lmms/projects/demos/Oglsdl-Dr8v2.mmpz") == "heldout"
    assert split_of("usr/share/lmms/projects/demos/Oglsdl-PpTrip.mmpz") == "heldout"
    assert split_of("usr/share/lmms/projects/demos/Skiessi/Skiessi-Onion.mmpz") == "train"


@pytest.mark.slow  # dpkg-deb and cutting four songs: about 3 s
@pytest.mark.skipif(shutil.which("dpkg-deb") is None, reason="needs Debian's dpkg-deb")
def test_productions_are_rendered_once_checked_cut_and_listed(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    build_lmms_deb(tmp_path)
    cache.mkdir()
    (tmp_path / "debs").rename(cache / "debian-music-debs")
    calls = []
    monkeypatch.setattr(lmms_productions, "render_project", fake_render(calls))
    rows = prepare_productions(tmp_path / "corpus", cache, sampling_rate=8000)
    out = tmp_path / "corpus" / "productions"
    assert sorted(calls) == ["DirtyLove.mmpz", "Momo64-esp.mmpz", "Oglsdl-PpTrip.mmpz", "Skiessi-Onion.mmpz"]
    table = {row["song"]: row for row in rows}
    assert table["Oglsdl-PpTrip"]["split"] == "heldout" and table["Oglsdl-PpTrip"]["licence"] == "Artistic-2"
    assert table["DirtyLove"]["licence"] == "GPL-2+" and table["DirtyLove"]["segments"] == 3
    assert table["Momo64-esp"]["rule"] == "near-mono" and table["Momo64-esp"]["segments"] == 0
    assert table["Skiessi-Onion"]["rule"] == "mono or under 30 s"
    assert len(list((out / "train").glob("*.flac"))) == 3  # DirtyLove's three 12 s segments
    assert len(list((out / "heldout").glob("*.flac"))) == 2
    (whole,) = (out / "heldout-songs").iterdir()  # the held-out song whole, at the render's rate, for eval
    info = soundfile.info(whole)
    assert whole.name == "Oglsdl-PpTrip.flac" and (info.samplerate, info.channels, info.frames) == (RATE, 2, 30 * RATE)
    manifest = (out / "MANIFEST.tsv").read_text().splitlines()
    assert manifest[0].split("\t") == lmms_productions.MANIFEST_COLUMNS and len(manifest) == 5

    prepare_productions(tmp_path / "corpus", cache, sampling_rate=8000)  # the renders are kept: none again
    assert len(calls) == 4 and len(list((out / "train").glob("*.flac"))) == 3


def test_rendering_without_lmms_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(RuntimeError, match="apt-get install lmms"):
        render_project(tmp_path / "song.mmpz", tmp_path / "song.wav")
    assert not np.any([path.exists() for path in tmp_path.iterdir()])


@pytest.mark.parametrize("name, weight", [("spatial-corpus-mt-cfwp", 1.0), ("spatial-corpus-mt-cfwp3", 3.0)])
def test_the_productions_recipes_read_the_corpus_commands_folder(name, weight):
    from mono2stereo.training.config import TrainingConfig
    from tests import REPO

    config = TrainingConfig.from_yaml(REPO / f"configs/train/{name}.yaml")
    base = TrainingConfig.from_yaml(REPO / "configs/train/spatial-corpus-mt-cfw.yaml")
    (productions,) = [s for s in config.data.sources if s.path == "data/corpus-32k/productions/train"]
    assert productions.kind == "folder" and productions.weight == weight
    assert [s for s in config.data.sources if s is not productions] == base.data.sources
    assert config.model == base.model and config.max_steps == base.max_steps


def test_the_productions_fine_tune_reads_only_the_productions():
    from mono2stereo.training.config import TrainingConfig
    from tests import REPO

    config = TrainingConfig.from_yaml(REPO / "configs/train/spatial-productions-ft.yaml")
    assert config.model.from_pretrained == "models/cfw-800-sample" and config.max_steps == 200
    assert [(s.kind, s.path) for s in config.data.sources] == [("folder", "data/corpus-32k/productions/train")]
    assert [s.path for s in config.data.eval_sources] == ["data/corpus-32k/productions/heldout"]
