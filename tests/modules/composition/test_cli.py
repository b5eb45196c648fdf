"""`manage.py compose` runs the same pipeline and writes the files."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

# transaction=True: progress reaches the bars after each event's commit, as in a real run.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("media_root")]


def test_compose_writes_files_and_prints_json(tmp_path: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "compose",
        "dark techno at night",
        "--seed",
        "3",
        "--duration",
        "15",
        "--out",
        str(tmp_path),
        stdout=out,
        stderr=err,
    )
    summary = json.loads(out.getvalue())
    assert summary["status"] == "SUCCEEDED"
    assert summary["seed"] == 3
    assert summary["genre"][0]["name"] == "techno"
    assert summary["key"] and summary["tempo"] and summary["sections"]
    assert "drums" in summary["layers"] and summary["lyrics"]
    assert abs(summary["loudness"]["integrated_lufs"] - summary["loudness"]["target_lufs"]) <= 0.5
    for name in summary["files"]:
        assert (tmp_path / name).stat().st_size > 0
    assert "master.mp3" in summary["files"]
    bars = err.getvalue().splitlines()
    assert any(line.startswith("mastering") and "100%" in line for line in bars)


def test_compose_rejects_bad_input_with_the_field(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="durationSeconds"):
        call_command("compose", "pop", "--duration", "5", "--out", str(tmp_path), stdout=io.StringIO())


def test_compose_takes_built_in_mastering_presets_only(tmp_path: Path) -> None:
    with pytest.raises(
        CommandError, match="masteringPreset: no mastering preset 'mine'; built in: default, streaming"
    ):
        call_command(
            "compose", "pop", "--mastering-preset", "mine", "--out", str(tmp_path), stdout=io.StringIO()
        )
