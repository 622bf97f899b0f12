"""Multitrack renders: General-MIDI parts rendered alone by fluidsynth and mixed with known placements."""

import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from mono2stereo.training.codec.midi import random_general_midi
from mono2stereo.training.config import SourceConfig
from mono2stereo.training.multitrack import MultitrackMixes, dry_stems
from mono2stereo.training.sources import read_shard, source_shards

TIMGM = Path("/usr/share/sounds/sf2/TimGM6mb.sf2")
HAS_FLUIDSYNTH = shutil.which("fluidsynth") is not None and TIMGM.is_file()
needs_fluidsynth = pytest.mark.skipif(not HAS_FLUIDSYNTH, reason="fluidsynth or timgm6mb-soundfont is not installed")
RATE = 16000


def test_dry_stems_are_one_part_each_centred_and_without_sends():
    stems = dry_stems(random_general_midi(3, seconds=4.0))
    assert {"bass", "chords1", "lead"} <= set(stems)
    for single in stems.values():
        assert len(single.tracks) == 2  # the tempo track and the part
        controls = {(m.control, m.value) for m in single.tracks[1] if m.type == "control_change"}
        assert {(10, 64), (91, 0), (93, 0)} <= controls and all(v == 64 for c, v in controls if c == 10)


@needs_fluidsynth
def test_stems_sum_to_the_mix_and_the_same_seed_gives_the_same_audio():
    mixes = MultitrackMixes(num_mixes=2, sampling_rate=RATE, duration_s=2.0, seed=5, soundfont=TIMGM)
    first = mixes[1]
    assert first["audio"].shape == (2, 2 * RATE) and first["style"] in ("modern", "vintage", "wide", "narrow")
    assert set(first["stems"]) == set(first["positions"])
    np.testing.assert_allclose(sum(first["stems"].values()), first["audio"], atol=1e-6)
    again = MultitrackMixes(num_mixes=2, sampling_rate=RATE, duration_s=2.0, seed=5, soundfont=TIMGM)[1]
    np.testing.assert_array_equal(again["audio"], first["audio"])
    assert again["positions"] == first["positions"]
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
def test_a_multitrack_source_streams_its_mixes_in_shards():
    source = SourceConfig(kind="multitrack", num_mixes=3, num_shards=2, duration_s=1.0, seed=2, soundfont=str(TIMGM))
    shards = source_shards(source)
    assert shards == [[0, 1], [1, 3]]
    examples = [e for shard in shards for e in read_shard(source, shard, RATE, Counter())]
    assert [e["id"] for e in examples] == ["multitrack-2-0", "multitrack-2-1", "multitrack-2-2"]
    assert all(e["audio"].shape == (2, RATE) and e["positions"] for e in examples)


def test_a_multitrack_source_needs_no_path_and_checks_its_styles():
    assert SourceConfig(kind="multitrack").path is None
    with pytest.raises(ValueError, match="unknown mixing style"):
        MultitrackMixes(styles=["baroque"], soundfont=TIMGM)
