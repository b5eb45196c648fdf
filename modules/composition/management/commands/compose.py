"""`python manage.py compose "PROMPT" --seed N --out DIR`: the pipeline from a terminal."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from modules.composition.models import Composition
from modules.composition.pipeline import run_inline
from modules.composition.services import composition_create
from modules.composition.stages import InputError, ordered_names
from subscriptions import events

BAR_WIDTH = 24


class ProgressBars:
    """One bar per stage, redrawn in place on a terminal, one line per change otherwise."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self.names = ordered_names()
        self.state = {name: (0.0, "pending") for name in self.names}
        self.drawn = False

    def __call__(self, payload: dict[str, Any]) -> None:
        stage = payload["stage"]
        if stage not in self.state:
            return
        label = {"STARTED": "running", "PROGRESS": payload["message"] or "running"}.get(
            payload["status"], payload["status"].lower()
        )
        self.state[stage] = (payload["progress"], label)
        self.draw(stage)

    def line(self, name: str) -> str:
        fraction, label = self.state[name]
        filled = round(fraction * BAR_WIDTH)
        return f"{name:<12} [{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {fraction * 100:3.0f}% {label[:40]}"

    def draw(self, changed: str) -> None:
        if not self.tty:
            self.stream.write(self.line(changed) + "\n")
            return
        if self.drawn:
            self.stream.write(f"\x1b[{len(self.names)}F")
        self.stream.write("".join(f"\x1b[2K{self.line(n)}\n" for n in self.names))
        self.stream.flush()
        self.drawn = True


def summary(composition: Composition) -> dict[str, Any]:
    context = composition.context
    lyrics = getattr(composition, "lyrics", None)
    master = getattr(composition, "master", None)
    mood = context.get("mood") or {}
    return {
        "id": composition.pk,
        "status": composition.status,
        "error": composition.error or None,
        "prompt": composition.prompt,
        "seed": composition.seed,
        "mood": mood.get("name"),
        "genre": [{"name": g["name"], "weight": round(g["weight"], 3)} for g in context.get("genres", [])],
        "key": context.get("key"),
        "scale": context.get("scale"),
        "tempo": context.get("tempo"),
        "sections": [
            {"name": s.name, "bars": s.bars, "chords": s.chords} for s in composition.sections.all()
        ],
        "layers": [layer.name for layer in composition.layers.all()],
        "lyrics": lyrics.text if lyrics else None,
        "loudness": {
            "integrated_lufs": round(master.integrated_lufs, 2),
            "target_lufs": master.target_lufs,
            "true_peak_dbtp": round(master.true_peak_dbtp, 2),
        }
        if master
        else None,
        "files": sorted(Path(a.file.name).name for a in composition.artifacts.filter(current=True)),
    }


class Command(BaseCommand):
    help = "Compose a song from a prompt with the same pipeline as the API, writing its files into --out."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("prompt")
        parser.add_argument("--seed", type=int, default=None)
        parser.add_argument("--out", default="out", help="directory for the files (created if missing)")
        parser.add_argument("--duration", type=int, default=60, help="seconds, 15 to 240")
        parser.add_argument("--mood")
        parser.add_argument("--genre", action="append", help="genre name, or name:weight; repeatable")
        parser.add_argument("--key")
        parser.add_argument("--scale")
        parser.add_argument("--tempo", type=float)
        parser.add_argument("--voice")
        parser.add_argument("--lyrics-file", help="a text file with your own lyrics")
        parser.add_argument("--instrumental", action="store_true")
        parser.add_argument("--mastering-preset", help="a built-in mastering preset, e.g. streaming or club")

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("migrate", verbosity=0, interactive=False)
        genres = None
        if options["genre"]:
            genres = []
            for item in options["genre"]:
                name, _, weight = item.partition(":")
                genres.append({"name": name, "weight": float(weight or 1.0)})
        lyrics = Path(options["lyrics_file"]).read_text() if options["lyrics_file"] else None
        try:
            composition = composition_create(
                prompt=options["prompt"],
                seed=options["seed"],
                duration_seconds=options["duration"],
                instrumental=options["instrumental"],
                inputs={
                    "mood": options["mood"],
                    "genres": genres,
                    "key": options["key"],
                    "scale": options["scale"],
                    "tempo": options["tempo"],
                    "voice": options["voice"],
                    "lyrics": lyrics,
                    "mastering_preset": options["mastering_preset"],
                },
                start=False,
            )
        except InputError as error:
            raise CommandError(f"{error.field}: {error.message}") from None

        bars = ProgressBars(self.stderr)
        events.local_listeners.append(bars)
        try:
            run_inline(composition.pk)
        finally:
            events.local_listeners.remove(bars)

        composition.refresh_from_db()
        out = Path(options["out"])
        out.mkdir(parents=True, exist_ok=True)
        for artifact in composition.artifacts.filter(current=True):
            with artifact.file.open("rb") as src, open(out / Path(artifact.file.name).name, "wb") as dst:
                shutil.copyfileobj(src, dst)
        self.stdout.write(json.dumps(summary(composition), indent=2))
        if composition.status != "SUCCEEDED":
            raise CommandError(f"composition {composition.status}: {composition.error}")
