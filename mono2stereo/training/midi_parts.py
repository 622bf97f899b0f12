"""MIDI pieces cut into excerpts and split into parts, each part ready to be rendered alone and dry.

A part is what one track plays on one channel in an excerpt: its notes, plus the channel's programme, controllers
and pitch bend as they stand at the excerpt's start and as they change within it (General MIDI keeps these per
channel, whichever track sets them). Every part is dry and centred: pan messages are set to the centre, reverb and
chorus sends to zero, and bank selects and system-exclusive messages dropped (parts sound in the General-MIDI bank).
Times are seconds from the excerpt's start. `parts_in_sequence` lays the parts of an excerpt one after another in a
single file at a fixed tempo, each in its own whole-second section ended by "all sound off", so one fluidsynth run
renders every part of a mix.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import mido

TICKS_PER_BEAT = 480
TEMPO = 500_000  # microseconds per beat (120 bpm): 960 ticks per second in the files written here
TICKS_PER_SECOND = TICKS_PER_BEAT * 1_000_000 // TEMPO
DRUM_CHANNEL = 9  # General MIDI channel 10
STATE_TYPES = ("program_change", "control_change", "pitchwheel", "aftertouch")
DRY_CONTROLS = {10: 64, 91: 0, 93: 0}  # pan centre, no reverb send, no chorus send
BANK_SELECT = (0, 32)
DATA_ENTRY = (6, 38, 96, 97, 98, 99, 100, 101)  # (N)RPN selection and data entry: replayed in order, never merged
SECTION_GAP_S = 0.25  # silence between two parts laid in sequence, at least
MIN_NOTES = 4  # an excerpt with fewer notes is not music to mix


@dataclass
class Part:
    """The notes one track plays on one channel in an excerpt, with the channel's state: `(seconds, message)`."""

    track: int
    channel: int
    events: list[tuple[float, mido.Message]] = field(default_factory=list)

    @property
    def program(self) -> int:
        """The General-MIDI programme (0-127) of the part's first note."""
        program = 0
        for _, message in self.events:
            if message.type == "program_change":
                program = message.program
            elif message.type == "note_on" and message.velocity > 0:
                break
        return program

    @property
    def pitches(self) -> Counter:
        """How many notes the part plays at each pitch (for drums: which instrument of the kit)."""
        return Counter(m.note for _, m in self.events if m.type == "note_on" and m.velocity > 0)

    @property
    def note_count(self) -> int:
        """How many notes the part plays."""
        return sum(self.pitches.values())


def timed_messages(midi: mido.MidiFile) -> list[tuple[float, int, mido.Message]]:
    """Every message of a type 0 or 1 file as `(seconds, track, message)`, in playing order, with the tempo map."""
    if midi.type == 2:
        raise ValueError("a type 2 MIDI file holds independent patterns, not one piece; give a type 0 or 1 file")
    ticked = []
    for index, track in enumerate(midi.tracks):
        tick = 0
        for message in track:
            tick += message.time
            ticked.append((tick, index, message))
    ticked.sort(key=lambda item: (item[0], item[1]))  # stable: each track keeps its own order
    timed, seconds, last_tick, tempo = [], 0.0, 0, 500_000
    for tick, index, message in ticked:
        seconds += mido.tick2second(tick - last_tick, midi.ticks_per_beat, tempo)
        last_tick = tick
        if message.type == "set_tempo":
            tempo = message.tempo
        timed.append((seconds, index, message))
    return timed


def piece_length_s(messages: list[tuple[float, int, mido.Message]]) -> float:
    """Where the last note of a piece ends (its last note message), in seconds."""
    return max((t for t, _, m in messages if m.type in ("note_on", "note_off")), default=0.0)


def excerpt_starts(messages: list[tuple[float, int, mido.Message]], seconds: float) -> list[float]:
    """The starts of a piece's whole excerpts of `seconds` back to back that hold at least `MIN_NOTES` notes.

    A piece shorter than `seconds` gives one excerpt from its start (the render is padded with silence).
    """
    onsets = [t for t, _, m in messages if m.type == "note_on" and m.velocity > 0]
    count = max(1, int(piece_length_s(messages) // seconds))
    notes = Counter(int(t // seconds) for t in onsets)
    return [k * seconds for k in range(count) if notes[k] >= MIN_NOTES]


def _dry(message: mido.Message) -> mido.Message | None:
    """The message as a dry, centred, General-MIDI part plays it; None for a bank select."""
    if message.type == "control_change":
        if message.control in BANK_SELECT:
            return None
        if message.control in DRY_CONTROLS:
            return message.copy(value=DRY_CONTROLS[message.control], time=0)
    return message.copy(time=0)


def _latest_state(messages: list[mido.Message]) -> list[mido.Message]:
    """A channel's state messages reduced to the last of each kind (data-entry controllers all kept, in order)."""
    seen, kept = set(), []
    for message in reversed(messages):
        kind = (message.type, getattr(message, "control", None))
        if message.type == "control_change" and message.control in DATA_ENTRY:
            kept.append(message)
        elif kind not in seen:
            seen.add(kind)
            kept.append(message)
    return kept[::-1]


def excerpt_parts(messages: list[tuple[float, int, mido.Message]], start_s: float, seconds: float) -> list[Part]:
    """The parts that play notes in `[start_s, start_s + seconds)`, in (track, channel) order."""
    return excerpts_parts(messages, [start_s], seconds)[0]


def excerpts_parts(
    messages: list[tuple[float, int, mido.Message]], starts: list[float], seconds: float
) -> list[list[Part]]:
    """`excerpt_parts` of several excerpts in one pass over the piece; `starts` ascend and excerpts do not overlap."""
    if any(later < earlier + seconds for earlier, later in zip(starts, starts[1:])):
        raise ValueError(f"excerpt starts {starts} must ascend by at least the excerpt's {seconds} s")
    state: dict[int, list[mido.Message]] = defaultdict(list)  # each channel's state messages so far
    cut, position = [], 0
    for start_s in starts:
        end = start_s + seconds
        while position < len(messages) and messages[position][0] < start_s:
            _, _, message = messages[position]
            position += 1
            if message.type in STATE_TYPES and (dry := _dry(message)) is not None:
                state[message.channel].append(dry)
        for channel in state:
            state[channel] = _latest_state(state[channel])
        before = {channel: list(kept) for channel, kept in state.items()}
        within: dict[int, list[tuple[float, mido.Message]]] = defaultdict(list)
        notes: dict[tuple[int, int], list[tuple[float, mido.Message]]] = defaultdict(list)
        sounding: dict[tuple[int, int], Counter] = defaultdict(Counter)
        while position < len(messages) and messages[position][0] < end:
            t, track, message = messages[position]
            position += 1
            if message.type in ("note_on", "note_off"):
                key = (track, message.channel)
                if message.type == "note_on" and message.velocity > 0:
                    sounding[key][message.note] += 1
                    notes[key].append((t - start_s, message.copy(time=0)))
                elif sounding[key][message.note] > 0:  # a note-off of a note begun before the excerpt is dropped
                    sounding[key][message.note] -= 1
                    notes[key].append((t - start_s, message.copy(time=0)))
            elif message.type in STATE_TYPES and (dry := _dry(message)) is not None:
                within[message.channel].append((t - start_s, dry))
                state[message.channel].append(dry)
        parts = []
        for track, channel in sorted(key for key, events in notes.items() if events):
            timed = sorted(within[channel] + notes[(track, channel)], key=lambda item: item[0])  # stable: state first
            parts.append(Part(track, channel, [(0.0, m) for m in before.get(channel, [])] + timed))
        cut.append(parts)
    return cut


def _channel_reset(channel: int) -> list[mido.Message]:
    """What a part's section starts with: controllers reset, General-MIDI defaults, dry and centred."""
    controls = [(121, 0), (7, 100), (11, 127), *DRY_CONTROLS.items()]
    reset = [mido.Message("control_change", channel=channel, control=c, value=v) for c, v in controls]
    reset.append(mido.Message("program_change", channel=channel, program=0))
    reset.append(mido.Message("pitchwheel", channel=channel, pitch=0))
    return reset


def _to_track(events: list[tuple[float, mido.Message]], name: str | None = None) -> mido.MidiTrack:
    """A track at the fixed tempo from `(seconds, message)` pairs in playing order."""
    track = mido.MidiTrack()
    if name is not None:
        track.append(mido.MetaMessage("track_name", name=name, time=0))
    now = 0
    for seconds, message in events:
        tick = max(now, round(seconds * TICKS_PER_SECOND))
        track.append(message.copy(time=tick - now))
        now = tick
    return track


def _fixed_tempo_file() -> mido.MidiFile:
    midi = mido.MidiFile(type=1, ticks_per_beat=TICKS_PER_BEAT)
    midi.tracks.append(mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=TEMPO, time=0)]))
    return midi


def section_seconds(seconds: float) -> int:
    """The length of each part's section in `parts_in_sequence`: whole seconds, so sections start on a block."""
    return math.ceil(seconds + SECTION_GAP_S)


def parts_in_sequence(parts: list[Part], seconds: float) -> mido.MidiFile:
    """One file playing part `k` alone from `k * section_seconds(seconds)`, cut off after `seconds`."""
    period = section_seconds(seconds)
    events = []
    for k, part in enumerate(parts):
        offset = k * period
        events += [(offset, m) for m in _channel_reset(part.channel)]
        events += [(offset + t, m) for t, m in part.events if t < seconds]
        for control in (123, 120):  # all notes off, all sound off: nothing rings into the next section
            events.append((offset + seconds, mido.Message("control_change", channel=part.channel, control=control)))
    midi = _fixed_tempo_file()
    midi.tracks.append(_to_track(events))
    return midi


def excerpt_file(parts: list[Part]) -> mido.MidiFile:
    """An excerpt's parts saved as a file: one track per part, named after the part's track in the piece."""
    midi = _fixed_tempo_file()
    for part in parts:
        midi.tracks.append(_to_track(part.events, name=f"track {part.track}"))
    return midi


def parts_of_excerpt_file(midi: mido.MidiFile) -> list[Part]:
    """The parts of a file written by `excerpt_file`."""
    parts = []
    by_track: dict[int, list[tuple[float, mido.Message]]] = defaultdict(list)
    names = {}
    for t, track, message in timed_messages(midi):
        if message.type == "track_name":
            names[track] = message.name
        elif not message.is_meta and hasattr(message, "channel"):
            by_track[track].append((t, message))
    for track, events in sorted(by_track.items()):
        label = names.get(track, "")
        source_track = int(label.split()[-1]) if label.startswith("track ") else track
        parts.append(Part(source_track, events[0][1].channel, events))
    return parts


__all__ = [
    "Part",
    "DRUM_CHANNEL",
    "excerpt_file",
    "excerpt_parts",
    "excerpt_starts",
    "excerpts_parts",
    "parts_in_sequence",
    "parts_of_excerpt_file",
    "piece_length_s",
    "section_seconds",
    "timed_messages",
]
