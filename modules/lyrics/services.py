"""Writes on lyrics: line edits with their history, drafts, the final version.

An edit is the lyrics stage's own work done at once for one line: the new words are fitted
to the line's notes (engine.edited_line), stored in the element, the LRC file and the
context, and recorded as an input (`lyrics_edits`) that the lyrics stage applies whenever it
writes the words again, so they survive a later rerun (a new tempo, say). The lyrics stage
run takes the hash of that new input, so the pipeline reuses it instead of writing the words
again; only voice and mastering, which read the lyrics, are recomputed.
"""

from __future__ import annotations

import re
from dataclasses import asdict
from typing import Any

from django.db import transaction
from django.utils import timezone

from modules.accounts.quotas import compose_allowance_take
from modules.composition.context import CompositionContext, LyricLine
from modules.composition.models import Composition, StageRun, StageStatus, Status
from modules.composition.pipeline import dispatch
from modules.composition.services import CompositionBusy, inputs_authorize, version_create
from modules.composition.stages import InputError, downstream, input_hash, registry
from modules.moderation.services import moderation_check
from subscriptions.events import publish_event

from . import engine
from .drafts import draft_create, draft_latest, draft_record
from .models import DraftOrigin, Lyrics, LyricsDraft, LyricsLineEdit
from .models import LyricLine as LyricLineRow
from .stage import STAGE_NAME, _as_text, lrc_save

MAX_LINE_CHARS = 200
# The stages a line edit reruns: what reads the lyrics, not the lyrics stage itself.
RERUN_FROM = "voice"


class LyricsConflict(InputError):
    """The lyrics are not in a state for this: final ones take no edits until reopened, and
    only final ones can be reopened."""


def _clean_line(text: str) -> str:
    if re.search(r"[\r\n]", (text or "").strip()):
        raise InputError("text", "one line at a time: the text must not contain a line break")
    cleaned = re.sub(r"\s+", " ", text or "").strip()
    if not cleaned:
        raise InputError("text", "give the new words of the line")
    if len(cleaned) > MAX_LINE_CHARS:
        raise InputError("text", f"the line is {len(cleaned)} characters long; the limit is {MAX_LINE_CHARS}")
    if not engine.sung_pieces(cleaned):
        raise InputError("text", "the line has no words to sing (letters or digits)")
    return cleaned


def _locked(composition: Composition) -> Composition:
    """The composition, its row locked for this transaction, refused while it is being made."""
    locked = Composition.objects.select_for_update().get(pk=composition.pk)
    if not locked.is_finished:
        raise CompositionBusy(
            "compositionId",
            f"composition is {locked.status}; wait for it to finish or cancel it before you change "
            "its lyrics",
        )
    return locked


def _lyrics_of(composition: Composition) -> Lyrics:
    lyrics = Lyrics.objects.filter(composition=composition).first()
    finished = StageRun.objects.filter(
        composition=composition, name=STAGE_NAME, status=StageStatus.SUCCEEDED
    ).exists()
    if lyrics is None or not finished or not lyrics.lines.exists():
        raise InputError(
            "compositionId",
            "this composition has no lyrics to edit (it is instrumental, or its lyrics stage did not finish)",
        )
    return lyrics


def _current_draft(composition: Composition, lyrics: Lyrics, rows: list[LyricLineRow]) -> LyricsDraft:
    """The newest draft; lyrics written before drafts were kept become draft 1 here."""
    return draft_latest(composition) or draft_record(
        composition, origin=lyrics.source, title=lyrics.title, text=lyrics.text, lines=[r.text for r in rows]
    )


def _refuse_final(draft: LyricsDraft) -> None:
    if draft.final:
        raise LyricsConflict(
            "compositionId",
            f"the lyrics are final (draft {draft.number}); reopen them (reopenLyrics) to edit again",
        )


def _editor(caller: Any) -> Any:
    return caller.user if caller is not None and caller.user_id is not None else None


def lyrics_line_edit(
    composition: Composition, *, line: int, text: str, repeats: bool = False, caller: Any = None
) -> Composition:
    """Replace the words of line `line` (and, with `repeats`, of every line with the same words
    in a section of the same name: a chorus that comes back), refit them to the line's notes,
    keep a version, and rerun voice and mastering only."""
    text = _clean_line(text)
    # The voice stage sings the new words with the stored inputs: a voice profile they name must
    # still be the caller's to use (a grant may have been revoked since the composition was made).
    inputs_authorize(composition.inputs, caller)
    moderation_check(
        text,
        field="text",
        caller_key=caller.client_key if caller is not None else "",
        composition=composition,
    )
    with transaction.atomic():
        # The quota's user row is locked before the composition's, as composition services do;
        # a refusal below rolls the count back with everything else.
        compose_allowance_take(caller, composition.duration_seconds)
        composition = _locked(composition)
        lyrics = _lyrics_of(composition)
        rows = list(lyrics.lines.order_by("index"))
        draft = _current_draft(composition, lyrics, rows)
        _refuse_final(draft)
        if not 0 <= line < len(rows):
            raise InputError("line", f"line must be between 0 and {len(rows) - 1}, not {line}")
        target = rows[line]
        if target.text == text:
            raise InputError("text", f"line {line} already says {text!r}; nothing to change")
        context = CompositionContext.from_dict(composition.context)
        if len(context.lyrics) != len(rows) or len(context.vocal_phrases) != len(rows):
            raise InputError("compositionId", "the lyrics no longer match the melody; regenerate the lyrics")
        indexes = [line]
        if repeats:
            indexes += [
                r.index
                for r in rows
                if r.index != line and r.section_name == target.section_name and r.text == target.text
            ]
        fitted: dict[int, tuple[LyricLine, str]] = {}
        for i in sorted(indexes):
            try:
                fitted[i] = engine.edited_line(context.lyrics[i], context.vocal_phrases[i], text)
            except engine.LineFitError as error:
                raise InputError("text", f"line {i}: {error}") from None

        where = f"line {line}" + (f" and its {len(indexes) - 1} repeats" if len(indexes) > 1 else "")
        version = version_create(composition, f"edit lyrics {where}: {text}")

        # The edits in effect: an edit made on words the stage no longer writes (the lyrics were
        # written again since) is dropped.
        edits = {
            e.line: e
            for e in engine.LineEdit.parse(context.inputs.get("lyrics_edits"))
            if e.line < len(rows) and e.base == _written(rows[e.line])
        }
        for i in fitted:
            base = _written(rows[i])
            if base == text:
                edits.pop(i, None)  # back to the words the stage wrote: no edit left
            else:
                edits[i] = engine.LineEdit(i, base, text)
        stored = [e.to_dict() for e in sorted(edits.values(), key=lambda e: e.line)]
        inputs = {k: v for k, v in composition.inputs.items() if k != "lyrics_edits"}
        context.inputs = {k: v for k, v in context.inputs.items() if k != "lyrics_edits"}
        if stored:
            inputs["lyrics_edits"] = stored
            context.inputs["lyrics_edits"] = stored

        for i, (new_line, _) in fitted.items():
            context.lyrics[i] = new_line
            LyricLineRow.objects.filter(pk=rows[i].pk).update(
                text=new_line.text, syllables=[asdict(s) for s in new_line.syllables]
            )
        lyrics.text = _as_text(context.lyrics)
        lyrics.save(update_fields=["text"])
        lrc_save(composition, context.lyrics, context.seconds_per_beat(), lyrics.title)

        new_draft = draft_create(
            composition,
            origin=DraftOrigin.EDIT,
            title=lyrics.title,
            text=lyrics.text,
            lines=[ln.text for ln in context.lyrics],
            user=_editor(caller),
        )
        LyricsLineEdit.objects.bulk_create(
            LyricsLineEdit(
                composition=composition,
                draft=new_draft,
                version=version,
                line_index=i,
                section_index=rows[i].section_index,
                section_name=rows[i].section_name,
                before=rows[i].text,
                after=new_line.text,
                syllables_before=len(rows[i].syllables),
                syllables_after=len(new_line.syllables),
                fit=fit,
                editor=_editor(caller),
            )
            for i, (new_line, fit) in sorted(fitted.items())
        )
        _lyrics_stage_done(composition, context)
        _rerun_from(composition, context, inputs, f"edit lyrics {where}")
    composition.refresh_from_db()
    return composition


def _written(row: LyricLineRow) -> str:
    """The words the lyrics stage wrote on a line (rows from before edits were kept: its words)."""
    return row.written or row.text


def _lyrics_stage_done(composition: Composition, context: CompositionContext) -> None:
    """Record the edit as the lyrics stage's result for its new inputs: the pipeline then finds
    the stage's hash unchanged and reuses it instead of writing the words again."""
    stage = registry()[STAGE_NAME]
    runs = StageRun.objects.filter(composition=composition)
    needs = {run.name: run.input_hash for run in runs if run.name in stage.needs}
    run = runs.get(name=STAGE_NAME)
    output = {**run.output, "lyrics": [asdict(line) for line in context.lyrics]}
    # Under the hash the pipeline will look for (the owner's route as it is now), so an edit reruns
    # voice and mastering only, whoever wrote the words it edits.
    key = input_hash(stage, context, needs, stage.route(composition, context))
    StageRun.objects.filter(pk=run.pk).update(input_hash=key, output=output)


def _rerun_from(
    composition: Composition, context: CompositionContext, inputs: dict[str, Any], reason: str
) -> None:
    """Queue the pipeline again with the stages from RERUN_FROM pending (the others are reused)."""
    Composition.objects.filter(pk=composition.pk).update(
        status=Status.QUEUED,
        context=context.to_dict(),
        inputs=inputs,
        error="",
        finished_at=None,
        resumes=0,
    )
    StageRun.objects.filter(composition=composition, name__in=downstream(RERUN_FROM)).update(
        status=StageStatus.PENDING, progress=0.0, message="", error=""
    )
    publish_event(composition.pk, status="QUEUED", message=reason)
    transaction.on_commit(lambda: dispatch(composition.pk))


def lyrics_finalize(composition: Composition, *, caller: Any = None) -> Composition:
    """Mark the current draft as the final version; line edits are refused until reopened.
    Finalizing final lyrics again changes nothing."""
    with transaction.atomic():
        composition = _locked(composition)
        lyrics = _lyrics_of(composition)
        draft = _current_draft(composition, lyrics, list(lyrics.lines.order_by("index")))
        if not draft.final:
            LyricsDraft.objects.filter(pk=draft.pk).update(
                finalized_at=timezone.now(), finalized_by=_editor(caller)
            )
    return composition


def lyrics_reopen(composition: Composition, *, caller: Any = None) -> Composition:
    """Open final lyrics for editing again: a new draft with the same words (the final one stays
    in the history as the final version)."""
    with transaction.atomic():
        composition = _locked(composition)
        lyrics = _lyrics_of(composition)
        draft = _current_draft(composition, lyrics, list(lyrics.lines.order_by("index")))
        if not draft.final:
            raise LyricsConflict(
                "compositionId", f"the lyrics are not final (draft {draft.number} is open for edits)"
            )
        draft_create(
            composition,
            origin=DraftOrigin.REOPENED,
            title=draft.title,
            text=draft.text,
            lines=draft.lines,
            user=_editor(caller),
        )
    return composition
