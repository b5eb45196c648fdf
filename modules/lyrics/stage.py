from __future__ import annotations

from typing import Any

from modules.composition.artifacts import artifact_save
from modules.composition.context import CompositionContext
from modules.composition.elements import row_restore, row_snapshot
from modules.composition.models import Composition
from modules.composition.stages import InputError, Progress, Stage, stage_seed

from .engine import write_lyrics
from .lrc import to_lrc
from .models import LyricLine, Lyrics

MAX_LYRICS_CHARS = 5000


class LyricsStage(Stage):
    name = "lyrics"
    needs = ("arrangement",)
    reads = (
        "prompt",
        "mood",
        "energy",
        "sections",
        "vocal_phrases",
        "instrumental",
        "tempo",
        "inputs.lyrics",
    )
    element_models = (Lyrics,)

    def validate(self, inputs: dict[str, Any]) -> None:
        lyrics = inputs.get("lyrics")
        if lyrics is not None and len(str(lyrics)) > MAX_LYRICS_CHARS:
            raise InputError(
                "lyrics", f"lyrics are {len(lyrics)} characters long; the limit is {MAX_LYRICS_CHARS}"
            )

    def applies(self, context: CompositionContext) -> bool:
        return not context.instrumental and bool(context.vocal_phrases)

    def run(self, composition: Composition, context: CompositionContext, progress: Progress) -> None:
        result = write_lyrics(context, stage_seed(context, self.name))
        Lyrics.objects.filter(composition=composition).delete()
        lyrics = Lyrics.objects.create(
            composition=composition,
            title=result.title,
            source=result.source,
            text=_as_text(result.lines),
        )
        LyricLine.objects.bulk_create(
            LyricLine(
                lyrics=lyrics,
                index=i,
                section_index=line.section_index,
                section_name=line.section_name,
                text=line.text,
                rhyme=line.rhyme,
                syllables=[vars(s) for s in line.syllables],
            )
            for i, line in enumerate(result.lines)
        )
        artifact_save(
            composition,
            stage=self.name,
            kind="lyrics",
            name="lyrics.lrc",
            data=to_lrc(result.lines, context.seconds_per_beat(), result.title).encode(),
        )
        context.lyrics = result.lines
        context.sources["lyrics"] = "input" if result.source == "user" else "seed"

    def snapshot(self, composition: Composition) -> dict[str, Any]:
        lyrics = Lyrics.objects.filter(composition=composition).first()
        if lyrics is None:
            return {}
        return {"Lyrics": row_snapshot(lyrics), "lines": [row_snapshot(line) for line in lyrics.lines.all()]}

    def restore(self, composition: Composition, data: dict[str, Any], artifacts: dict[str, Any]) -> None:
        Lyrics.objects.filter(composition=composition).delete()
        if data:
            lyrics = row_restore(Lyrics, data["Lyrics"], artifacts, composition=composition)
            for line in data["lines"]:
                row_restore(LyricLine, line, artifacts, lyrics=lyrics)


def _as_text(lines: list[Any]) -> str:
    """Lines with a blank line between sections."""
    out: list[str] = []
    previous = None
    for line in lines:
        if previous is not None and line.section_index != previous:
            out.append("")
        out.append(line.text)
        previous = line.section_index
    return "\n".join(out)


STAGE = LyricsStage()
