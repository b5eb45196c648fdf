from __future__ import annotations

import zlib
from typing import Any

from django.utils import timezone

from modules.composition.artifacts import artifact_save
from modules.composition.context import CompositionContext
from modules.composition.elements import row_restore, row_snapshot
from modules.composition.models import Composition, StageRun, Status
from modules.composition.stages import InputError, Progress, Stage, StageCancelled, stage_seed
from modules.moderation.services import ModerationRejected, moderation_flag_generated, moderator_fingerprint
from modules.providers import router
from modules.providers.models import BUILT_IN, CallOutcome, Provider
from modules.providers.selectors import provider_identity
from modules.providers.services import ProviderFailed, Unusable, provider_ask
from subscriptions.events import publish_event

from .drafts import draft_record
from .engine import SOURCE_GENERATED, LineEdit, LyricsResult, apply_edits, has_user_lyrics, write_lyrics
from .llm import Fitted, InvalidLyrics, chat_messages, lyrics_ask, parse_answer
from .lrc import to_lrc
from .models import LyricLine, Lyrics

MAX_LYRICS_CHARS = 5000
# Generated lyrics the content check flags are written again from this many derived seeds.
MODERATION_RETRIES = 3


STAGE_NAME = "lyrics"


class LyricsStage(Stage):
    name = STAGE_NAME
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
        "inputs.lyrics_edits",
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

    def fingerprint(self) -> dict[str, Any]:
        # Flagged lyrics are rewritten, so the moderator takes part in choosing the words.
        return {"moderator": moderator_fingerprint()}

    def route(self, composition: Composition, context: CompositionContext) -> dict[str, Any]:
        """The provider the owner's route chooses for lyrics (their preference, else priority and
        health), or {} for the built-in writer and for the user's own lyrics (no provider sees them)."""
        if has_user_lyrics(context):
            return {}
        chosen = router.route(STAGE_NAME, composition.owner)
        return provider_identity(chosen.provider) if chosen.provider is not None else {}

    def route_taken(self, composition: Composition, planned: dict[str, Any]) -> dict[str, Any]:
        """Who wrote the words just stored: the built-in writer after a provider failed ({}), or the
        provider the stage asked (the router may have chosen another since the hash was taken)."""
        writer = Lyrics.objects.filter(composition=composition).values_list("provider", flat=True).first()
        if not writer or writer == BUILT_IN:
            return {}
        if writer == planned.get("provider"):
            return planned
        provider = Provider.objects.filter(name=writer).first()
        return provider_identity(provider) if provider is not None else planned

    def run(self, composition: Composition, context: CompositionContext, progress: Progress) -> None:
        result, writer = _written(composition, context, stage_seed(context, self.name))
        # Line edits (editLyricsLine) are the user's words over these: checked when they were given.
        lines = apply_edits(
            result.lines, context.vocal_phrases, LineEdit.parse(context.inputs.get("lyrics_edits"))
        )
        Lyrics.objects.filter(composition=composition).delete()
        lyrics = Lyrics.objects.create(
            composition=composition,
            title=result.title,
            source=result.source,
            provider=writer,
            text=_as_text(lines),
        )
        LyricLine.objects.bulk_create(
            LyricLine(
                lyrics=lyrics,
                index=i,
                section_index=line.section_index,
                section_name=line.section_name,
                text=line.text,
                written=written.text,
                rhyme=line.rhyme,
                syllables=[vars(s) for s in line.syllables],
            )
            for i, (line, written) in enumerate(zip(lines, result.lines, strict=True))
        )
        lrc_save(composition, lines, context.seconds_per_beat(), result.title)
        draft_record(composition, origin=result.source, title=result.title, text=lyrics.text, lines=lines)
        context.lyrics = lines
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
            draft_record(
                composition,
                origin=lyrics.source,
                title=lyrics.title,
                text=lyrics.text,
                lines=[line["text"] for line in sorted(data["lines"], key=lambda row: row["index"])],
            )


def lrc_save(composition: Composition, lines: list[Any], seconds_per_beat: float, title: str) -> None:
    """The timed lyrics file: each line at the time its first syllable is sung."""
    artifact_save(
        composition,
        stage=STAGE_NAME,
        kind="lyrics",
        name="lyrics.lrc",
        data=to_lrc(lines, seconds_per_beat, title).encode(),
    )


class _Notes:
    """Tells a client watching progress what the providers did: each note is a PROGRESS event of
    the stage, logged and published at once (never coalesced, unlike fine-grained progress), and
    the stage run's message. A cancelled composition stops here, as at any progress report."""

    def __init__(self, composition: Composition, stage: str) -> None:
        self.composition = composition
        self.stage = stage
        self.count = 0

    def __call__(self, message: str) -> None:
        if Composition.objects.filter(pk=self.composition.pk, status=Status.CANCELLED).exists():
            raise StageCancelled()
        self.count += 1
        fraction = min(0.9, 0.1 * self.count)
        StageRun.objects.filter(composition=self.composition, name=self.stage).update(
            progress=fraction, message=message[:200], heartbeat_at=timezone.now()
        )
        publish_event(
            self.composition.pk, stage=self.stage, status="PROGRESS", progress=fraction, message=message
        )


def _written(composition: Composition, context: CompositionContext, seed: int) -> tuple[LyricsResult, str]:
    """The lyrics and who wrote them: the user's own (""), the provider the router chose, or the
    built-in writer (when chosen, and whenever the provider fails)."""
    if has_user_lyrics(context):
        return write_lyrics(context, seed), ""
    route = router.route(STAGE_NAME, composition.owner)
    if route.provider is None:
        if route.passed_over:  # providers exist but none may be asked: say why
            _Notes(composition, STAGE_NAME)(route.reason)
        return _moderated(composition, context, seed), BUILT_IN
    notes = _Notes(composition, STAGE_NAME)
    notes(f"asking {route.reason}")
    try:
        fitted = _from_provider(route.provider, composition, context, seed, notes)
    except ProviderFailed as failure:
        notes(f"fell back to built-in: {failure}")
        return _moderated(composition, context, seed), BUILT_IN
    return fitted.result, route.provider.name


def _from_provider(
    provider: Provider, composition: Composition, context: CompositionContext, seed: int, notes: _Notes
) -> Fitted:
    """Lyrics from `provider`, checked and fitted; ProviderFailed when no attempt gave usable ones."""
    ask = lyrics_ask(context)

    def accept(content: str) -> Fitted:
        try:
            fitted = parse_answer(content, ask, context)
        except InvalidLyrics as error:
            raise Unusable(
                CallOutcome.INVALID, f"answered unusable lyrics: {error}", detail=error.detail
            ) from None
        text = f"{fitted.result.title}\n{_as_text(fitted.result.lines)}"
        verdict = moderation_flag_generated(composition, "generated_lyrics", text)
        if verdict is not None:
            raise Unusable(
                CallOutcome.REJECTED, f"wrote lyrics the content check refused (rule: {verdict.rule})"
            )
        return fitted

    answer = provider_ask(
        provider,
        stage=STAGE_NAME,
        messages=chat_messages(ask),
        seed=seed,
        accept=accept,
        notify=notes,
        composition=composition,
    )
    fitted = answer.value
    notes(
        f"lyrics by provider '{provider.name}' (attempt {answer.attempt}, {answer.duration_ms} ms): "
        f"{len(fitted.result.lines)} lines, {fitted.on_count + fitted.retimed} written, "
        f"{fitted.on_count} on their syllable count, {fitted.retimed} re-timed"
    )
    return fitted


def _moderated(composition: Composition, context: CompositionContext, seed: int) -> LyricsResult:
    """The lyrics of `seed`; generated ones the content check flags are written again from
    seeds derived from it (deterministic), and the stage fails when every attempt is flagged."""
    result = write_lyrics(context, seed)
    if result.source != SOURCE_GENERATED:
        return result  # the user's own lyrics were checked when they were given
    for retry in range(MODERATION_RETRIES + 1):
        if retry:
            result = write_lyrics(context, retry_seed(seed, retry))
        text = f"{result.title}\n{_as_text(result.lines)}"
        verdict = moderation_flag_generated(composition, "generated_lyrics", text)
        if verdict is None:
            return result
    raise ModerationRejected(
        "generated_lyrics",
        f"the generated lyrics failed the content check {MODERATION_RETRIES + 1} times "
        f"(rule: {verdict.rule}); change the prompt or give your own lyrics",
        verdict.rule,
        verdict.excerpt,
    )


def retry_seed(seed: int, retry: int) -> int:
    """The seed of the n-th rewrite: derived, so the same seed still gives the same words."""
    return zlib.crc32(f"{seed}:moderation:{retry}".encode()) & 0x7FFFFFFF


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
