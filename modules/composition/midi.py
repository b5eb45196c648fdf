"""Standard MIDI files from compact note lists, through mido.

A note is `[pitch, start_beat, duration_beats, velocity]`; a track is a
`MidiTrack`. Output is deterministic bytes (type 1 file, 480 ticks per beat).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import mido

TICKS_PER_BEAT = 480
DRUM_CHANNEL = 9

Note = list[float]  # [pitch, start_beat, duration_beats, velocity]


@dataclass
class MidiTrack:
    name: str
    notes: list[Note]
    channel: int = 0
    program: int = 0
    volume: int = 100  # CC7, 0..127
    pan: int = 64  # CC10, 0 left .. 127 right
    lyrics: list[str] = field(default_factory=list)  # one per note, written as lyric meta events
    controls: list[tuple[float, int, int]] = field(default_factory=list)  # (beat, controller, value)


def _ticks(beats: float) -> int:
    return max(0, round(beats * TICKS_PER_BEAT))


def _track(spec: MidiTrack) -> mido.MidiTrack:
    track = mido.MidiTrack()
    track.append(mido.MetaMessage("track_name", name=spec.name, time=0))
    ch = spec.channel
    if ch != DRUM_CHANNEL:
        track.append(mido.Message("program_change", channel=ch, program=int(spec.program), time=0))
    track.append(mido.Message("control_change", channel=ch, control=7, value=int(spec.volume), time=0))
    track.append(mido.Message("control_change", channel=ch, control=10, value=int(spec.pan), time=0))
    # (absolute tick, order, message): note-offs sort before note-ons at the same tick
    # so repeated pitches re-strike instead of being cut.
    events: list[tuple[int, int, mido.Message | mido.MetaMessage]] = []
    for i, (pitch, start, duration, velocity) in enumerate(spec.notes):
        on, off = _ticks(start), max(_ticks(start) + 1, _ticks(start + duration))
        if spec.lyrics and i < len(spec.lyrics):
            events.append((on, 1, mido.MetaMessage("lyrics", text=spec.lyrics[i])))
        events.append((on, 2, mido.Message("note_on", channel=ch, note=int(pitch), velocity=int(velocity))))
        events.append((off, 0, mido.Message("note_off", channel=ch, note=int(pitch), velocity=0)))
    for beat, controller, value in spec.controls:
        events.append(
            (_ticks(beat), 0, mido.Message("control_change", channel=ch, control=controller, value=value))
        )
    events.sort(key=lambda e: (e[0], e[1]))
    now = 0
    for tick, _, msg in events:
        track.append(msg.copy(time=tick - now))
        now = tick
    track.append(mido.MetaMessage("end_of_track", time=0))
    return track


def write_midi(tracks: list[MidiTrack], tempo_bpm: float, time_signature: tuple[int, int] = (4, 4)) -> bytes:
    """A type-1 MIDI file: a conductor track (tempo, metre) plus one track per spec."""
    midi = mido.MidiFile(type=1, ticks_per_beat=TICKS_PER_BEAT)
    conductor = mido.MidiTrack()
    conductor.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(tempo_bpm), time=0))
    conductor.append(
        mido.MetaMessage("time_signature", numerator=time_signature[0], denominator=time_signature[1], time=0)
    )
    conductor.append(mido.MetaMessage("end_of_track", time=0))
    midi.tracks.append(conductor)
    midi.tracks.extend(_track(t) for t in tracks)
    buffer = io.BytesIO()
    midi.save(file=buffer)
    return buffer.getvalue()
