"""MIDI pieces cut into excerpts and parts, and Debian's MIDI packages taken apart; no audio is rendered here."""

import shutil
import struct
import subprocess

import mido
import pytest

from mono2stereo.training.codec.midi import random_general_midi
from mono2stereo.training.midi_library import excerpts, midi_pieces, wad_music
from mono2stereo.training.midi_parts import (
    excerpt_file,
    excerpt_parts,
    excerpt_starts,
    excerpts_parts,
    parts_in_sequence,
    parts_of_excerpt_file,
    section_seconds,
    timed_messages,
)
from mono2stereo.training.multitrack import stem_names, stem_roles

BEAT = 480


def long_piece(bars: int = 16) -> mido.MidiFile:
    """A type 1 piece at 120 bpm, slowing to 60 bpm after 8 bars: a piano (track 1, channel 0) playing every beat
    (an electric piano from bar 12), and one track (2) holding both a drum kit (channel 9, kicks) and strings
    (channel 3, a note every bar)."""
    midi = mido.MidiFile(type=1, ticks_per_beat=BEAT)
    tempo = mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=500_000, time=0)])
    tempo.append(mido.MetaMessage("set_tempo", tempo=1_000_000, time=8 * 4 * BEAT))
    piano = mido.MidiTrack([mido.Message("program_change", channel=0, program=1, time=0)])
    piano.append(mido.Message("control_change", channel=0, control=10, value=0, time=0))  # hard left
    piano.append(mido.Message("control_change", channel=0, control=91, value=100, time=0))
    piano.append(mido.Message("control_change", channel=0, control=0, value=8, time=0))  # a GS variation bank
    for beat in range(bars * 4):
        if beat == 12 * 4:  # bar 12 (32 s) on an electric piano
            piano.append(mido.Message("program_change", channel=0, program=4, time=0))
        piano.append(mido.Message("note_on", channel=0, note=60, velocity=90, time=0))
        piano.append(mido.Message("note_off", channel=0, note=60, time=BEAT))
    band = mido.MidiTrack([mido.Message("program_change", channel=3, program=48, time=0)])
    for _ in range(bars):
        band.append(mido.Message("note_on", channel=3, note=55, velocity=70, time=0))
        for _ in range(4):
            band.append(mido.Message("note_on", channel=9, note=36, velocity=100, time=0))
            band.append(mido.Message("note_off", channel=9, note=36, time=BEAT))
        band.append(mido.Message("note_off", channel=3, note=55, time=0))
    midi.tracks.extend([tempo, piano, band])
    return midi


def test_a_long_file_is_cut_into_excerpts_of_its_real_time_and_split_into_parts():
    messages = timed_messages(long_piece())
    # 8 bars of 2 s at 120 bpm, then 8 bars of 4 s at 60 bpm: 48 s, so twelve whole excerpts of 4 s.
    assert excerpt_starts(messages, 4.0) == [4.0 * k for k in range(12)]
    parts = excerpt_parts(messages, 20.0, 4.0)  # bars 11 and 12 begin at 16 s and 20 s: one bar of 4 s
    assert [(p.track, p.channel) for p in parts] == [(1, 0), (2, 3), (2, 9)]
    piano, strings, drums = parts
    assert piano.program == 1 and strings.program == 48 and drums.program == 0
    assert piano.note_count == 4 and drums.note_count == 4 and strings.note_count == 1
    onsets = [round(t, 6) for t, m in piano.events if m.type == "note_on"]
    assert onsets == [0.0, 1.0, 2.0, 3.0]  # one beat a second at 60 bpm, from the excerpt's start
    controls = {(m.control, m.value) for _, m in piano.events if m.type == "control_change"}
    assert controls == {(10, 64), (91, 0)}  # centred and dry; the bank select is gone
    assert stem_roles(parts) == ["piano", "strings", "kick"]


def test_excerpts_cut_in_one_pass_carry_the_state_of_the_piece_so_far():
    messages = timed_messages(long_piece())
    starts = excerpt_starts(messages, 4.0)
    cut = excerpts_parts(messages, starts, 4.0)
    for start, parts in zip(starts, cut):
        alone = excerpt_parts(messages, start, 4.0)
        assert [(p.track, p.channel, [(t, str(m)) for t, m in p.events]) for p in parts] == [
            (p.track, p.channel, [(t, str(m)) for t, m in p.events]) for p in alone
        ]
    assert [parts[0].program for parts in cut] == [1] * 8 + [4] * 4  # the programme change at 32 s
    with pytest.raises(ValueError, match="must ascend"):
        excerpts_parts(messages, [0.0, 2.0], 4.0)


def test_an_excerpt_drops_note_offs_of_notes_begun_before_it():
    messages = timed_messages(long_piece())
    # The strings hold a note over each 4 s bar from 16 s: [18, 22) has the end of one note and all of another's start.
    parts = excerpt_parts(messages, 18.0, 4.0)
    strings = next(p for p in parts if p.channel == 3)
    assert [(round(t, 6), m.type) for t, m in strings.events if m.type.startswith("note")] == [(2.0, "note_on")]


def test_an_excerpt_file_keeps_its_parts_and_the_sequence_gives_each_part_a_section():
    messages = timed_messages(long_piece())
    parts = excerpt_parts(messages, 4.0, 2.0)
    again = parts_of_excerpt_file(excerpt_file(parts))
    assert [(p.track, p.channel, p.program, p.note_count) for p in again] == [
        (p.track, p.channel, p.program, p.note_count) for p in parts
    ]
    sequence = timed_messages(parts_in_sequence(parts, 2.0))
    period = section_seconds(2.0)
    assert period == 3
    for k, part in enumerate(parts):
        notes = [t for t, _, m in sequence if m.type == "note_on" and m.channel == part.channel]
        assert notes and all(k * period <= t < k * period + 2.0 for t in notes)
        silenced = [t for t, _, m in sequence if m.type == "control_change" and m.control == 120]
        assert pytest.approx(k * period + 2.0) in silenced


def test_random_pieces_split_into_named_dry_parts():
    parts = excerpt_parts(timed_messages(random_general_midi(3, seconds=5.0)), 0.0, 4.0)
    names = stem_names(stem_roles(parts, random_piece=True))
    assert {"bass", "lead"} <= set(names) and any(name.startswith("chords") for name in names)
    for part in parts:
        assert {m.channel for _, m in part.events} == {part.channel}
        pans = {m.value for _, m in part.events if m.type == "control_change" and m.control == 10}
        sends = {m.value for _, m in part.events if m.type == "control_change" and m.control in (91, 93)}
        assert pans <= {64} and sends <= {0}


def test_one_lead_per_mix():
    messages = timed_messages(long_piece())
    parts = excerpt_parts(messages, 0.0, 4.0)
    for part, program in zip(parts, (56, 64)):  # brass and a reed: both lead instruments
        part.events = [(t, m.copy(program=program) if m.type == "program_change" else m) for t, m in part.events]
    assert stem_roles(parts[:2]) == ["lead", "other"]  # the piano part plays more notes than the strings


def wad(lumps: dict[str, bytes]) -> bytes:
    """A Doom IWAD holding `lumps`."""
    body, directory, offset = b"", b"", 12
    for name, data in lumps.items():
        directory += struct.pack("<ii8s", offset + len(body), len(data), name.encode())
        body += data
    return b"IWAD" + struct.pack("<ii", len(lumps), offset + len(body)) + body + directory


def midi_bytes(midi: mido.MidiFile) -> bytes:
    import io

    buffer = io.BytesIO()
    midi.save(file=buffer)
    return buffer.getvalue()


def test_a_wad_gives_its_midi_music_lumps_only():
    song = midi_bytes(long_piece(2))
    lumps = wad_music(wad({"D_RUNNIN": song, "D_OLDMUS": b"MUS\x1a" + b"\0" * 12, "PLAYPAL": b"\0" * 30}))
    assert lumps == [("D_RUNNIN", song)]
    with pytest.raises(ValueError, match="not a WAD"):
        wad_music(b"PK\x03\x04")


@pytest.mark.skipif(shutil.which("dpkg-deb") is None, reason="needs Debian's dpkg-deb")
def test_a_package_s_midi_files_and_wad_lumps_become_excerpts_with_their_licence(tmp_path):
    root = tmp_path / "build" / "tune-data"
    (root / "DEBIAN").mkdir(parents=True)
    control = "Package: tune-data\nVersion: 1.0\nArchitecture: all\nMaintainer: t <t@example.org>\nDescription: t\n"
    (root / "DEBIAN" / "control").write_text(control)
    (root / "usr/share/tune").mkdir(parents=True)
    song = midi_bytes(long_piece())
    (root / "usr/share/tune/theme.mid").write_bytes(song)
    (root / "usr/share/tune/sounds.mid").write_bytes(song)  # the same piece again: kept once
    (root / "usr/share/tune/game.wad").write_bytes(wad({"D_LEVEL1": midi_bytes(long_piece(4))}))
    (root / "usr/share/doc/tune-data").mkdir(parents=True)
    copyright_text = "Files: *\nCopyright: someone\nLicense: GPL-2+\n\nFiles: usr/share/tune/*.wad\nLicense: BSD-3\n"
    (root / "usr/share/doc/tune-data/copyright").write_text(copyright_text)
    debs = tmp_path / "debs"
    debs.mkdir()
    subprocess.run(["dpkg-deb", "--build", str(root), str(debs / "tune-data_1.0_all.deb")], check=True)
    packages = {"tune-data": ("usr/share/tune/*.mid", "usr/share/tune/*.wad")}
    pieces = midi_pieces(debs, packages)
    assert [(p["file"], p["licence"], p["duration_s"]) for p in pieces] == [
        ("usr/share/tune/game.wad/D_LEVEL1.mid", "BSD-3", "8.0"),
        ("usr/share/tune/sounds.mid", "GPL-2+", "48.0"),
    ]
    assert all(p["copyright"] == "usr/share/doc/tune-data/copyright" for p in pieces)
    assert (debs / "midi/tune-data/usr/share/doc/tune-data/copyright").read_text() == copyright_text
    cut = excerpts(debs, 4.0)  # the folder's own packages: nothing is fetched
    assert [(e.file.rsplit("/", 1)[-1], e.start_s) for e in cut] == [("D_LEVEL1.mid", 0.0), ("D_LEVEL1.mid", 4.0)] + [
        ("sounds.mid", 4.0 * k) for k in range(12)
    ]
    parts = parts_of_excerpt_file(mido.MidiFile(cut[-1].path))
    assert [(p.track, p.channel) for p in parts] == [(1, 0), (2, 3), (2, 9)]
    assert excerpts(debs, 4.0) == cut  # made once, read back
