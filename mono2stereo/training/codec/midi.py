"""Procedural General-MIDI pieces: drums, bass, chords and a lead with random instruments, tempo, key and mix."""

from __future__ import annotations

import io
import random

import mido

TICKS_PER_BEAT = 480
DRUM_CHANNEL = 9  # General MIDI channel 10
MAJOR = (0, 2, 4, 5, 7, 9, 11)
MINOR = (0, 2, 3, 5, 7, 8, 10)
# General-MIDI program families (0-based) for each part.
BASS_PROGRAMS = tuple(range(32, 40)) + (43, 58, 87)
CHORD_PROGRAMS = (
    tuple(range(0, 8)) + tuple(range(16, 22)) + tuple(range(24, 30)) + tuple(range(48, 52)) + (tuple(range(88, 96)))
)
LEAD_PROGRAMS = (
    tuple(range(8, 16)) + tuple(range(40, 46)) + tuple(range(56, 80)) + tuple(range(80, 88)) + (tuple(range(104, 112)))
)
KICK, SNARE, CLOSED_HAT, OPEN_HAT, CRASH, RIDE, TOM_LOW, TOM_HIGH, CLAP = 36, 38, 42, 46, 49, 51, 45, 50, 39


def _absolute_to_track(events: list[tuple[int, mido.Message]]) -> mido.MidiTrack:
    """A track from (absolute tick, message) pairs; note-offs sort before note-ons at the same tick."""
    track = mido.MidiTrack()
    now = 0
    for tick, message in sorted(events, key=lambda item: (item[0], item[1].type == "note_on")):
        track.append(message.copy(time=tick - now))
        now = tick
    return track


def _note(events: list, channel: int, note: int, velocity: int, start: int, length: int) -> None:
    events.append((start, mido.Message("note_on", channel=channel, note=note, velocity=velocity)))
    events.append((start + max(length, 1), mido.Message("note_off", channel=channel, note=note, velocity=0)))


def _mix_controls(rng: random.Random, channel: int, pan_spread: float) -> list[tuple[int, mido.Message]]:
    """Volume, pan, reverb and chorus for one channel."""
    pan = int(min(max(64 + rng.uniform(-1.0, 1.0) * 63 * pan_spread, 0), 127))
    values = {7: rng.randint(70, 120), 10: pan, 91: rng.randint(0, 90), 93: rng.randint(0, 60)}
    return [(0, mido.Message("control_change", channel=channel, control=c, value=v)) for c, v in values.items()]


def _drums(rng: random.Random, bars: int, beats_per_bar: int) -> list:
    events = _mix_controls(rng, DRUM_CHANNEL, pan_spread=0.2)
    steps_per_beat = rng.choice((2, 4))
    step = TICKS_PER_BEAT // steps_per_beat
    hat = rng.choice((CLOSED_HAT, CLOSED_HAT, RIDE, OPEN_HAT))
    kick_steps = {0, beats_per_bar // 2 * steps_per_beat} | {
        s for s in range(beats_per_bar * steps_per_beat) if rng.random() < 0.12
    }
    snare_beats = {b for b in range(beats_per_bar) if b % 2 == 1}
    snare = rng.choice((SNARE, SNARE, CLAP))
    for bar in range(bars):
        bar_start = bar * beats_per_bar * TICKS_PER_BEAT
        fill = bar % 4 == 3 and rng.random() < 0.6
        for s in range(beats_per_bar * steps_per_beat):
            tick = bar_start + s * step
            if s in kick_steps:
                _note(events, DRUM_CHANNEL, KICK, rng.randint(90, 127), tick, step)
            if s % steps_per_beat == 0 and s // steps_per_beat in snare_beats:
                _note(events, DRUM_CHANNEL, snare, rng.randint(80, 120), tick, step)
            if rng.random() < 0.9:
                _note(events, DRUM_CHANNEL, hat, rng.randint(40, 100), tick, step)
            if fill and s >= (beats_per_bar - 1) * steps_per_beat:
                _note(events, DRUM_CHANNEL, rng.choice((TOM_LOW, TOM_HIGH, SNARE)), rng.randint(70, 120), tick, step)
        if bar % 8 == 0:
            _note(events, DRUM_CHANNEL, CRASH, rng.randint(80, 120), bar_start, TICKS_PER_BEAT)
    return events


def _chord_notes(root: int, scale: tuple[int, ...], degree: int, size: int) -> list[int]:
    """Stacked thirds on a scale degree, as MIDI notes above `root`."""
    notes = []
    for k in range(size):
        index = degree + 2 * k
        notes.append(root + scale[index % 7] + 12 * (index // 7))
    return notes


def random_general_midi(seed: int, seconds: float = 15.0) -> mido.MidiFile:
    """A random multi-instrument General-MIDI piece of about `seconds`; the same seed gives the same piece."""
    rng = random.Random(seed)
    beats_per_bar = rng.choice((4, 4, 4, 3))
    bpm = rng.uniform(70.0, 160.0)
    bars = max(1, round(seconds * bpm / 60.0 / beats_per_bar))
    scale = rng.choice((MAJOR, MINOR))
    key = rng.randrange(12)
    progression = [0] + [rng.choice((1, 2, 3, 4, 5, 6, 0, 3, 4)) for _ in range(3)]
    bar_ticks = beats_per_bar * TICKS_PER_BEAT

    midi = mido.MidiFile(type=1, ticks_per_beat=TICKS_PER_BEAT)
    meta = mido.MidiTrack()
    meta.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(bpm), time=0))
    meta.append(mido.MetaMessage("time_signature", numerator=beats_per_bar, denominator=4, time=0))
    midi.tracks.append(meta)

    parts = []
    if rng.random() < 0.85:
        parts.append(_drums(rng, bars, beats_per_bar))

    # Bass: chord roots on a rhythm of quarter or eighth notes, some octave jumps.
    bass = [(0, mido.Message("program_change", channel=0, program=rng.choice(BASS_PROGRAMS)))]
    bass += _mix_controls(rng, 0, pan_spread=0.15)
    bass_step = TICKS_PER_BEAT // rng.choice((1, 2))
    for bar in range(bars):
        root = 28 + key + scale[progression[bar % 4]]
        for tick in range(0, bar_ticks, bass_step):
            if rng.random() < 0.85:
                note = root + (12 if rng.random() < 0.2 else 0)
                _note(bass, 0, note, rng.randint(70, 115), bar * bar_ticks + tick, int(bass_step * 0.9))
    parts.append(bass)

    # Chords or pads: held or rhythmic, one or two instruments.
    for channel in range(1, 1 + rng.choice((1, 2))):
        chords = [(0, mido.Message("program_change", channel=channel, program=rng.choice(CHORD_PROGRAMS)))]
        chords += _mix_controls(rng, channel, pan_spread=1.0)
        hits = rng.choice((1, 2, beats_per_bar))
        size = rng.choice((3, 3, 4))
        octave = rng.choice((48, 60))
        for bar in range(bars):
            notes = _chord_notes(octave + key, scale, progression[bar % 4], size)
            for hit in range(hits):
                start = bar * bar_ticks + hit * bar_ticks // hits
                velocity = rng.randint(45, 95)
                for note in notes:
                    _note(chords, channel, note, velocity, start, int(bar_ticks / hits * 0.95))
        parts.append(chords)

    # Lead: a random walk on the scale, rests and varied note lengths.
    lead_channel = 4
    lead = [(0, mido.Message("program_change", channel=lead_channel, program=rng.choice(LEAD_PROGRAMS)))]
    lead += _mix_controls(rng, lead_channel, pan_spread=0.8)
    degree, tick, end = rng.randrange(7), 0, bars * bar_ticks
    while tick < end:
        length = rng.choice((1, 2, 2, 4, 4, 8)) * TICKS_PER_BEAT // 4
        if rng.random() < 0.8:
            degree = max(-7, min(14, degree + rng.choice((-2, -1, -1, 0, 1, 1, 2, 3, -3))))
            note = 72 + key + scale[degree % 7] + 12 * (degree // 7)
            _note(lead, lead_channel, note, rng.randint(60, 120), tick, int(length * rng.uniform(0.5, 1.0)))
        tick += length
    parts.append(lead)

    for events in parts:
        midi.tracks.append(_absolute_to_track(events))
    return midi


def midi_bytes(midi: mido.MidiFile) -> bytes:
    """The Standard MIDI File bytes of `midi`."""
    buffer = io.BytesIO()
    midi.save(file=buffer)
    return buffer.getvalue()
