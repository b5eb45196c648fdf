"""Reads on mastering presets and references: querysets scoped to their owner, and the mastering
choice a composition's inputs name, resolved for the caller."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from modules.composition.ids import pk_from_global_id
from modules.composition.stages import InputError

from .models import MasteringPreset, MasteringReference
from .presets import BUILT_IN, DEFAULT_PRESET, PresetValues


def presets_of(owner_id: int | None) -> QuerySet[MasteringPreset]:
    return MasteringPreset.objects.filter(owner_id=owner_id).order_by("name", "id")


def references_of(owner_id: int | None) -> QuerySet[MasteringReference]:
    return MasteringReference.objects.filter(owner_id=owner_id).order_by("-created_at", "-id")


def _preset(owner_id: int | None, name_or_id: str) -> tuple[str, int | None, PresetValues]:
    if name_or_id.lower() in BUILT_IN:
        built_in = BUILT_IN[name_or_id.lower()]
        return built_in.name, None, built_in.values
    pk = pk_from_global_id(name_or_id, "MasteringPreset")
    mine = presets_of(owner_id)
    found = mine.filter(pk=pk).first() if pk is not None else mine.filter(name=name_or_id).first()
    if found is None:
        raise InputError(
            "masteringPreset",
            f"no mastering preset {name_or_id!r}; built in: {', '.join(BUILT_IN)}, or one of yours "
            "(masteringPresets) by name or id",
        )
    values = PresetValues(
        target_lufs=found.target_lufs,
        ceiling_dbtp=found.ceiling_dbtp,
        eq_tilt_db_per_octave=found.eq_tilt_db_per_octave,
        stereo_width=found.stereo_width,
        compression_ratio=found.compression_ratio,
        compression_threshold_db=found.compression_threshold_db,
    )
    return found.name, found.pk, values


def reference_for(owner_id: int | None, global_id: str) -> MasteringReference:
    pk = pk_from_global_id(global_id, "MasteringReference")
    found = references_of(owner_id).filter(pk=pk).first() if pk is not None else None
    if found is None:  # someone else's reads exactly like one that does not exist
        raise InputError(
            "masteringReference",
            f"no mastering reference with id {global_id}; upload one with uploadMasteringReference",
        )
    return found


def mastering_choice(caller: Any, preset: str | None, reference_id: str | None) -> dict[str, Any]:
    """What a composition's mastering inputs name, as the data the mastering stage reads (so the
    stage's input hash changes when, and only when, what it will do changes)."""
    owner_id = caller.user_id if caller is not None else None
    name, preset_pk, values = _preset(owner_id, (preset or DEFAULT_PRESET).strip() or DEFAULT_PRESET)
    choice: dict[str, Any] = {
        "preset": name,
        "preset_id": preset_pk,
        "values": values.to_dict(),
        "reference": None,
    }
    if reference_id:
        reference = reference_for(owner_id, reference_id)
        choice["reference"] = {
            "id": reference.pk,
            "name": reference.name,
            "sha256": reference.sha256,
            "integrated_lufs": reference.integrated_lufs,
            "bands": reference.band_levels,
        }
    return choice
