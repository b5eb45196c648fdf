"""Views used only by the benchmarks (served through bench/urls.py, never by the product).

- `composition` / `compositions`: a hand-written Django JSON view returning exactly the data of
  tests.queries.COMPOSITION / COMPOSITIONS_PAGE (same keys, same values, same envelope) with the
  best ORM it can: values() only (no model instances), the one-to-one elements and their files
  joined into the main query, one query per list, only the JSON keys the response shows.
- `rest_part`: five REST-style per-module views (mood, genre, arrangement, lyrics, voice-master)
  as the old platform's frontend called them, one request each; merged they are the same
  composition.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable
from types import SimpleNamespace
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from strawberry.relay import to_base64
from strawberry.relay.types import PREFIX as CURSOR_PREFIX

from modules.arrangement.models import Layer, Section
from modules.composition.artifacts import artifact_url
from modules.composition.gm import instrument_name
from modules.composition.models import Artifact, Composition, StageRun, Version
from modules.lyrics.models import LyricLine
from modules.mastering.presets import PresetValues

Row = dict[str, Any]

# --- columns ---------------------------------------------------------------------------------

ARTIFACT = ("id", "kind", "name", "stage", "mime_type", "size_bytes", "duration_seconds", "file")
CONTEXT_KEYS = ("mood", "energy", "genres", "key", "scale", "tempo", "time_signature", "instruments",
                "vocal_style", "vocal_range", "loudness_target", "total_beats", "sources")  # fmt: skip
CORE = ("id", "prompt", "seed", "status", "created_at", "finished_at", "duration_seconds", "instrumental",
        "error", "last_seq", *(f"context__{k}" for k in CONTEXT_KEYS))  # fmt: skip
MOOD = ("id", "name", "valence", "energy", "tags", "source")
GENRE = ("id", "primary", "source", "tempo", "swing", "density", "loudness_target", "programs", "weights",
         "reference")  # fmt: skip
LYRICS = ("id", "title", "source", "text")
VOICE = ("id", "voice", "source", "low", "high", "program", "notes", "syllables",
         *(f"midi__{c}" for c in ARTIFACT))  # fmt: skip
MASTER = ("id", "target_lufs", "loudness_before", "integrated_lufs", "gain_db", "sample_peak_dbfs",
          "true_peak_dbtp", "duration_seconds", "sample_rate", "ceiling_dbtp", "preset", "settings", "report",
          *(f"{f}__{c}" for f in ("wav", "flac", "mp3", "midi") for c in ARTIFACT))  # fmt: skip


def prefixed(prefix: str, columns: Iterable[str]) -> list[str]:
    return [f"{prefix}__{c}" for c in columns]


def iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


# --- rows to the GraphQL shape ------------------------------------------------------------------


def artifact(row: Row, p: str = "") -> Row | None:
    if row[f"{p}id"] is None:
        return None
    return {
        "kind": row[f"{p}kind"],
        "name": row[f"{p}name"],
        "stage": row[f"{p}stage"],
        "mimeType": row[f"{p}mime_type"],
        "sizeBytes": row[f"{p}size_bytes"],
        "durationSeconds": row[f"{p}duration_seconds"],
        "url": artifact_url(SimpleNamespace(pk=row[f"{p}id"], name=row[f"{p}name"])),  # type: ignore[arg-type]
    }


def context(row: Row, p: str = "context__") -> Row:
    mood = row[f"{p}mood"]
    return {
        "mood": mood["name"] if mood else None,
        "valence": mood["valence"] if mood else None,
        "energy": row[f"{p}energy"],
        "key": row[f"{p}key"],
        "scale": row[f"{p}scale"],
        "tempo": row[f"{p}tempo"],
        "timeSignature": row[f"{p}time_signature"] or [4, 4],
        "instruments": row[f"{p}instruments"] or [],
        "vocalStyle": row[f"{p}vocal_style"],
        "vocalRange": row[f"{p}vocal_range"],
        "loudnessTarget": row[f"{p}loudness_target"],
        "totalBeats": row[f"{p}total_beats"] or 0.0,
        "genres": [{"name": g["name"], "weight": g["weight"]} for g in row[f"{p}genres"] or []],
        "sources": [{"field": k, "source": v} for k, v in sorted((row[f"{p}sources"] or {}).items())],
    }


def core(row: Row) -> Row:
    return {
        "id": to_base64("Composition", row["id"]),
        "prompt": row["prompt"],
        "seed": row["seed"],
        "status": row["status"],
        "createdAt": iso(row["created_at"]),
        "finishedAt": iso(row["finished_at"]),
        "durationSeconds": row["duration_seconds"],
        "instrumental": row["instrumental"],
        "error": row["error"],
        "lastSeq": row["last_seq"],
        "context": context(row),
    }


def mood(row: Row, p: str = "mood__") -> Row | None:
    if row[f"{p}id"] is None:
        return None
    return {k: row[p + k] for k in ("name", "valence", "energy", "tags", "source")}


def genre(row: Row, p: str = "genre__") -> Row | None:
    if row[f"{p}id"] is None:
        return None
    return {
        "primary": row[f"{p}primary"],
        "source": row[f"{p}source"],
        "tempo": row[f"{p}tempo"],
        "swing": row[f"{p}swing"],
        "density": row[f"{p}density"],
        "loudnessTarget": row[f"{p}loudness_target"],
        "programs": row[f"{p}programs"],
        "weights": [{"name": w["name"], "weight": w["weight"]} for w in row[f"{p}weights"]],
        "reference": genre_reference(row[f"{p}reference"]),
    }


def genre_reference(used: dict | None) -> Row | None:
    if not used:
        return None
    return {"referenceId": to_base64("GenreReference", used["id"]), "name": used["name"],
            "tempo": used["tempo"], "key": used["key"], "scale": used["scale"]}  # fmt: skip


def lyrics(row: Row, p: str = "lyrics__") -> Row | None:
    if row[f"{p}id"] is None:
        return None
    return {"title": row[f"{p}title"], "source": row[f"{p}source"], "text": row[f"{p}text"], "lines": []}


def voice(row: Row, p: str = "voice__") -> Row | None:
    if row[f"{p}id"] is None:
        return None
    return {
        "voice": row[f"{p}voice"],
        "instrument": instrument_name(row[f"{p}program"]),
        "source": row[f"{p}source"],
        "low": row[f"{p}low"],
        "high": row[f"{p}high"],
        "program": row[f"{p}program"],
        "notes": row[f"{p}notes"],
        "syllables": row[f"{p}syllables"],
        "midi": artifact(row, f"{p}midi__"),
    }


def master(row: Row, p: str = "master__") -> Row | None:
    if row[f"{p}id"] is None:
        return None
    return {
        "targetLufs": row[f"{p}target_lufs"],
        "loudnessBefore": row[f"{p}loudness_before"],
        "integratedLufs": row[f"{p}integrated_lufs"],
        "gainDb": row[f"{p}gain_db"],
        "samplePeakDbfs": row[f"{p}sample_peak_dbfs"],
        "truePeakDbtp": row[f"{p}true_peak_dbtp"],
        "durationSeconds": row[f"{p}duration_seconds"],
        "sampleRate": row[f"{p}sample_rate"],
        "ceilingDbtp": row[f"{p}ceiling_dbtp"],
        "preset": row[f"{p}preset"],
        "presetValues": preset_values((row[f"{p}settings"] or {}).get("values")),
        "measurements": [
            {k: m[k] for k in ("name", "unit", "target", "before", "achieved")}
            for m in (row[f"{p}report"] or {}).get("measures", [])
        ],
        "referenceMatch": reference_match(row[f"{p}report"], row[f"{p}settings"]),
        "wav": artifact(row, f"{p}wav__"),
        "flac": artifact(row, f"{p}flac__"),
        "mp3": artifact(row, f"{p}mp3__"),
        "midi": artifact(row, f"{p}midi__"),
    }


def preset_values(stored: dict | None) -> Row:
    values = stored or PresetValues().to_dict()
    return {"targetLufs": values.get("target_lufs"), "stereoWidth": values.get("stereo_width")}


def reference_match(report: dict | None, settings: dict | None) -> Row | None:
    match, used = (report or {}).get("reference"), (settings or {}).get("reference")
    if not match or not used:
        return None
    return {
        "referenceId": to_base64("MasteringReference", used["id"]),
        "distanceBeforeDb": match["distance_before_db"],
        "distanceAfterDb": match["distance_after_db"],
        "bands": [{"frequency": b["frequency"], "eqGainDb": b["eq_gain_db"]} for b in match["bands"]],
    }


# The one-to-one elements: their columns (joined from Composition) and their shapers.
ONE_TO_ONE: dict[str, tuple[tuple[str, ...], Callable[[Row], Row | None]]] = {
    "mood": (MOOD, mood),
    "genre": (GENRE, genre),
    "lyrics": (LYRICS, lyrics),
    "voice": (VOICE, voice),
    "master": (MASTER, master),
}


# --- the lists: one query each ----------------------------------------------------------------


def grouped(rows: Iterable[Row], key: str, shape: Callable[[Row], Row]) -> dict[int, list[Row]]:
    out: dict[int, list[Row]] = defaultdict(list)
    for row in rows:
        out[row[key]].append(shape(row))
    return out


def sections(ids: list[int]) -> dict[int, list[Row]]:
    rows = Section.objects.filter(composition_id__in=ids).order_by("composition_id", "index")
    return grouped(
        rows.values("composition_id", "index", "name", "start_bar", "bars", "energy", "vocal", "chords"),
        "composition_id",
        lambda r: {
            "index": r["index"],
            "name": r["name"],
            "startBar": r["start_bar"],
            "bars": r["bars"],
            "energy": r["energy"],
            "vocal": r["vocal"],
            "chords": r["chords"],
        },
    )


LAYER = ("composition_id", "index", "name", "role", "program", "channel", "is_drum", "volume", "pan",
         "note_count", "notes")  # fmt: skip


def layers(ids: list[int]) -> dict[int, list[Row]]:
    rows = Layer.objects.filter(composition_id__in=ids).order_by("composition_id", "index")
    return grouped(
        rows.values(*LAYER, *prefixed("midi", ARTIFACT)),
        "composition_id",
        lambda r: {
            "index": r["index"],
            "name": r["name"],
            "instrument": instrument_name(r["program"], r["is_drum"]),
            "role": r["role"],
            "program": r["program"],
            "channel": r["channel"],
            "isDrum": r["is_drum"],
            "volume": r["volume"],
            "pan": r["pan"],
            "noteCount": r["note_count"],
            "notes": r["notes"],
            "midi": artifact(r, "midi__"),
        },
    )


def lines(lyrics_ids: list[int]) -> dict[int, list[Row]]:
    rows = LyricLine.objects.filter(lyrics_id__in=lyrics_ids).order_by("lyrics_id", "index")
    return grouped(
        rows.values("lyrics_id", "index", "section_index", "section_name", "text", "rhyme", "syllables"),
        "lyrics_id",
        lambda r: {
            "index": r["index"],
            "sectionIndex": r["section_index"],
            "sectionName": r["section_name"],
            "text": r["text"],
            "rhyme": r["rhyme"],
            "syllables": [
                {
                    "text": s["text"],
                    "start": s["start"],
                    "duration": s["duration"],
                    "stress": s["stress"],
                    "wordEnd": s["word_end"],
                }
                for s in r["syllables"]
            ],
        },
    )


STAGE = ("composition_id", "name", "position", "status", "progress", "message", "error", "attempts", "seed",
         "input_hash", "reused", "started_at", "finished_at")  # fmt: skip


def stages(ids: list[int]) -> dict[int, list[Row]]:
    rows = StageRun.objects.filter(composition_id__in=ids).order_by("composition_id", "position")
    return grouped(
        rows.values(*STAGE),
        "composition_id",
        lambda r: {
            "name": r["name"],
            "position": r["position"],
            "status": r["status"],
            "progress": r["progress"],
            "message": r["message"],
            "error": r["error"],
            "attempts": r["attempts"],
            "seed": r["seed"],
            "inputHash": r["input_hash"],
            "reused": r["reused"],
            "startedAt": iso(r["started_at"]),
            "finishedAt": iso(r["finished_at"]),
        },
    )


def artifacts(ids: list[int]) -> dict[int, list[Row]]:
    rows = Artifact.objects.filter(composition_id__in=ids, current=True).order_by(*Artifact._meta.ordering)
    return grouped(rows.values("composition_id", *ARTIFACT), "composition_id", artifact)  # type: ignore[arg-type]


VERSION = (
    "id",
    "composition_id",
    "number",
    "reason",
    "created_at",
    "elements",
    "context__tempo",
    "context__key",
)


def versions(ids: list[int]) -> dict[int, list[Row]]:
    rows = list(
        Version.objects.filter(composition_id__in=ids).order_by("composition_id", "-number").values(*VERSION)
    )
    files = grouped(
        Version.artifacts.through.objects.filter(version_id__in=[r["id"] for r in rows])
        .order_by(*(f"artifact__{f}" for f in Artifact._meta.ordering))
        .values("version_id", *prefixed("artifact", ARTIFACT)),
        "version_id",
        lambda r: artifact(r, "artifact__"),  # type: ignore[arg-type,return-value]
    )
    return grouped(
        rows,
        "composition_id",
        lambda r: {
            "number": r["number"],
            "reason": r["reason"],
            "createdAt": iso(r["created_at"]),
            "elements": r["elements"],
            "context": {"tempo": r["context__tempo"], "key": r["context__key"]},
            "artifacts": files.get(r["id"], []),
        },
    )


# --- whole compositions -------------------------------------------------------------------------

ALL_COLUMNS = [*CORE, *(c for name, (cols, _) in ONE_TO_ONE.items() for c in prefixed(name, cols))]


def nodes(rows: list[Row]) -> list[Row]:
    """Whole compositions from their joined rows: one more query per list."""
    ids = [r["id"] for r in rows]
    out = []
    for r in rows:
        node = core(r)
        for name, (_, shape) in ONE_TO_ONE.items():
            node[name] = shape(r)
        out.append(node)
    by_lyrics = {r["lyrics__id"]: node["lyrics"] for r, node in zip(rows, out, strict=True) if node["lyrics"]}
    for lyrics_id, found in lines(list(by_lyrics)).items():
        by_lyrics[lyrics_id]["lines"] = found
    lists = {
        "sections": sections(ids),
        "layers": layers(ids),
        "stages": stages(ids),
        "artifacts": artifacts(ids),
        "versions": versions(ids),
    }
    for node, pk in zip(out, ids, strict=True):
        for name, found in lists.items():
            node[name] = found.get(pk, [])
    return out


def as_json(data: Row, status: int = 200) -> HttpResponse:
    # Compact, as strawberry encodes its responses.
    body = json.dumps({"data": data}, separators=(",", ":"))
    return HttpResponse(body, content_type="application/json", status=status)


def composition(request: HttpRequest, pk: int) -> HttpResponse:
    rows = list(Composition.objects.filter(pk=pk).values(*ALL_COLUMNS))
    if not rows:
        raise Http404(f"no composition {pk}")
    return as_json({"composition": nodes(rows)[0]})


def compositions(request: HttpRequest) -> HttpResponse:
    """A page, newest first, in the relay connection's shape (cursors included)."""
    first = int(request.GET.get("first", 20))
    queryset = Composition.objects.order_by("-created_at", "-id")
    rows = list(queryset.values(*ALL_COLUMNS)[: first + 1])
    page = nodes(rows[:first])
    edges = [{"cursor": to_base64(CURSOR_PREFIX, i), "node": node} for i, node in enumerate(page)]
    return as_json(
        {
            "compositions": {
                "totalCount": queryset.count(),
                "edges": edges,
                "pageInfo": {
                    "hasNextPage": len(rows) > first,
                    "endCursor": edges[-1]["cursor"] if edges else None,
                },
            }
        }
    )


# --- the old way: five REST-style requests, one per module ---------------------------------------


def rest_mood(pk: int) -> Row:
    """The old mood app: the request itself (the composition's own fields, its context) and the mood."""
    row = Composition.objects.filter(pk=pk).values(*CORE, *prefixed("mood", MOOD)).first()
    if row is None:
        raise Http404(f"no composition {pk}")
    return {**core(row), "mood": mood(row)}


def rest_genre(pk: int) -> Row:
    row = Composition.objects.filter(pk=pk).values("id", *prefixed("genre", GENRE)).first()
    if row is None:
        raise Http404(f"no composition {pk}")
    return {"genre": genre(row)}


def rest_arrangement(pk: int) -> Row:
    return {"sections": sections([pk]).get(pk, []), "layers": layers([pk]).get(pk, [])}


def rest_lyrics(pk: int) -> Row:
    row = Composition.objects.filter(pk=pk).values("id", *prefixed("lyrics", LYRICS)).first()
    if row is None:
        raise Http404(f"no composition {pk}")
    found = lyrics(row)
    if found is not None:
        found["lines"] = lines([row["lyrics__id"]]).get(row["lyrics__id"], [])
    return {"lyrics": found}


def rest_voice_master(pk: int) -> Row:
    """The old voice-cloning app carried the sung line, the mixdown and the files."""
    row = Composition.objects.filter(pk=pk).values(
        "id", *prefixed("voice", VOICE), *prefixed("master", MASTER)
    )
    row = row.first()
    if row is None:
        raise Http404(f"no composition {pk}")
    return {
        "voice": voice(row),
        "master": master(row),
        "stages": stages([pk]).get(pk, []),
        "artifacts": artifacts([pk]).get(pk, []),
        "versions": versions([pk]).get(pk, []),
    }


REST_PARTS: dict[str, Callable[[int], Row]] = {
    "mood": rest_mood,
    "genre": rest_genre,
    "arrangement": rest_arrangement,
    "lyrics": rest_lyrics,
    "voice-master": rest_voice_master,
}


def rest_part(request: HttpRequest, part: str, pk: int) -> HttpResponse:
    if part not in REST_PARTS:
        raise Http404(f"no module {part}")
    return as_json(REST_PARTS[part](pk))
