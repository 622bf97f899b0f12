"""Multitrack renders: General-MIDI parts rendered alone by fluidsynth and mixed with known placements."""

import shutil
from collections import Counter
from pathlib import Path

import mido
import numpy as np
import pytest

from mono2stereo.training.codec.midi import random_general_midi
from mono2stereo.training.codec.render import render_midi
from mono2stereo.training.config import SourceConfig
from mono2stereo.training.midi_parts import excerpt_parts, parts_in_sequence, timed_messages
from mono2stereo.training.multitrack import MultitrackMixes
from mono2stereo.training.sources import read_shard, source_shards

TIMGM = Path("/usr/share/sounds/sf2/TimGM6mb.sf2")
HAS_FLUIDSYNTH = shutil.which("fluidsynth") is not None and TIMGM.is_file()
needs_fluidsynth = pytest.mark.skipif(not HAS_FLUIDSYNTH, reason="fluidsynth or timgm6mb-soundfont is not installed")
RATE = 16000


@needs_fluidsynth
def test_stems_sum_to_the_mix_and_the_same_seed_gives_the_same_audio():
    mixes = MultitrackMixes(num_mixes=2, sampling_rate=RATE, duration_s=2.0, seed=5, soundfont=TIMGM)
    first = mixes[1]
    assert first["audio"].shape == (2, 2 * RATE) and first["style"] in ("modern", "vintage", "wide", "narrow")
    assert set(first["stems"]) == set(first["positions"]) == {p["name"] for p in first["placements"]}
    assert first["piece"] == {"kind": "random", "seed": 5 * 1_000_003 + 1}
    np.testing.assert_allclose(sum(first["stems"].values()), first["audio"], atol=1e-6)
    assert all(np.abs(stem).max() > 0 for stem in first["stems"].values())
    again = MultitrackMixes(num_mixes=2, sampling_rate=RATE, duration_s=2.0, seed=5, soundfont=TIMGM)[1]
    np.testing.assert_array_equal(again["audio"], first["audio"])
    assert again["placements"] == first["placements"]
    other = MultitrackMixes(num_mixes=2, sampling_rate=RATE, duration_s=2.0, seed=6, soundfont=TIMGM)[1]
    assert not np.allclose(other["audio"], first["audio"])


@needs_fluidsynth
def test_a_stem_hard_left_in_the_vintage_style_is_in_the_left_channel_only():
    mixes = MultitrackMixes(num_mixes=6, sampling_rate=RATE, duration_s=2.0, styles=["vintage"], soundfont=TIMGM)
    hard_left = 0
    for mix in mixes:
        for name, pan in mix["positions"].items():
            left, right = (np.sum(mix["stems"][name][c].astype(np.float64) ** 2) for c in (0, 1))
            if pan == -1.0 and left > 0:
                hard_left += 1
                assert right <= 1e-12 * left, f"{name} is hard left but has energy on the right"
            if pan == 1.0 and right > 0:
                assert left <= 1e-12 * right
    assert hard_left > 0  # a third of the parts are drawn hard left


@needs_fluidsynth
def test_parts_rendered_in_one_run_sound_as_each_part_rendered_alone():
    parts = excerpt_parts(timed_messages(random_general_midi(11, 3.0)), 0.0, 1.5)
    mixes = MultitrackMixes(num_mixes=1, sampling_rate=RATE, duration_s=1.5, soundfont=TIMGM)
    together = mixes.render_parts(parts)
    for part, stem in zip(parts, together):
        alone = render_midi(parts_in_sequence([part], 1.5), RATE, TIMGM, effects=False).mean(axis=1)
        alone = np.pad(alone, (0, max(0, len(stem) - len(alone))))[: len(stem)]
        assert np.abs(alone).max() > 1e-3
        error = np.sqrt(np.mean((stem - alone) ** 2) / np.mean(alone**2))
        # Equal but for a few samples at some onsets (fluidsynth starts voices within its 64-sample blocks).
        assert error < 1e-2, f"part on channel {part.channel} differs by {error:.2e} (relative RMS)"


def test_bad_settings_are_named():
    assert SourceConfig(kind="multitrack").path is None
    with pytest.raises(ValueError, match="unknown mixing style"):
        MultitrackMixes(styles=["baroque"], soundfont=TIMGM)
    with pytest.raises(ValueError, match="midi_share"):
        MultitrackMixes(midi_share=1.5, soundfont=TIMGM)


def library_with_one_piece(folder: Path, seconds: float) -> None:
    """A MIDI library as `midi_library` leaves it, holding one piece of a bass and a lead cut into 2 excerpts."""
    midi = mido.MidiFile(type=1, ticks_per_beat=480)
    midi.tracks.append(mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=500_000, time=0)]))
    for channel, program, note in ((0, 33, 40), (1, 73, 76)):  # fingered bass, flute
        track = mido.MidiTrack([mido.Message("program_change", channel=channel, program=program, time=0)])
        for _ in range(int(8 * seconds)):  # eighth notes for two excerpts
            track.append(mido.Message("note_on", channel=channel, note=note, velocity=100, time=0))
            track.append(mido.Message("note_off", channel=channel, note=note, time=240))
        midi.tracks.append(track)
    root = folder / "midi"
    (root / "pkg").mkdir(parents=True)
    midi.save(root / "pkg" / "song.mid")
    (root / "PACKAGES").write_text("tune-music\n")
    header = "package\tfile\tlicence\tcopyright\tduration_s\tpath\n"
    fields = ["tune-music", "usr/share/tune/song.mid", "GPL-2+", "usr/share/doc/tune-music/copyright"]
    row = "\t".join(fields + [str(2 * seconds), "pkg/song.mid"]) + "\n"
    (root / "MIDI.tsv").write_text(header + row)


@needs_fluidsynth
def test_mixes_from_a_midi_library_carry_where_their_piece_came_from(tmp_path):
    library_with_one_piece(tmp_path, 1.0)
    mixes = MultitrackMixes(
        num_mixes=3, sampling_rate=RATE, duration_s=1.0, seed=1, soundfont=TIMGM, midi_dir=tmp_path, midi_share=1.0
    )
    assert [(e.file, e.start_s) for e in mixes.excerpts] == [("usr/share/tune/song.mid", s) for s in (0.0, 1.0)]
    for mix in mixes:
        assert mix["piece"]["kind"] == "debian" and mix["piece"]["package"] == "tune-music"
        assert mix["piece"]["licence"] == "GPL-2+" and mix["piece"]["start_s"] in (0.0, 1.0)
        assert [(p["role"], p["program"], p["channel"]) for p in mix["placements"]] == [
            ("bass", 33, 0),
            ("lead", 73, 1),
        ]
        np.testing.assert_allclose(sum(mix["stems"].values()), mix["audio"], atol=1e-6)


@needs_fluidsynth
def test_a_multitrack_source_streams_its_mixes_in_shards():
    source = SourceConfig(kind="multitrack", num_mixes=3, num_shards=2, duration_s=1.0, seed=2, soundfont=str(TIMGM))
    shards = source_shards(source)
    assert shards == [[0, 1], [1, 3]]
    examples = [e for shard in shards for e in read_shard(source, shard, RATE, Counter())]
    assert [e["id"] for e in examples] == ["multitrack-2-0", "multitrack-2-1", "multitrack-2-2"]
    assert all(e["audio"].shape == (2, RATE) and e["positions"] for e in examples)
