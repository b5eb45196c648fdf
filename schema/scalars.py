"""Shared scalars: compact encodings for large numeric data (DESIGN: no thousands of objects)."""

from typing import NewType

import strawberry

NoteList = NewType("NoteList", list)
JSONObject = NewType("JSONObject", dict)

SCALAR_MAP = {
    NoteList: strawberry.scalar(
        name="NoteList",
        description=(
            "Notes as a JSON array of [pitch, startBeat, durationBeats, velocity] arrays: "
            "MIDI pitch 0-127, times in beats (quarter notes) from the start, velocity 1-127."
        ),
        serialize=lambda notes: notes,
        parse_value=lambda value: value,
    ),
    JSONObject: strawberry.scalar(
        name="JSONObject",
        description="A JSON object.",
        serialize=lambda value: value,
        parse_value=lambda value: value,
    ),
}
