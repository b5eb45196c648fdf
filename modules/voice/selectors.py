"""Who may see and sing with which voice profiles: every read goes through these."""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet
from strawberry.relay import to_base64

from modules.composition.ids import pk_from_global_id

from .models import VoiceProfile, VoiceProfileGrant, VoiceUse

PROFILE_TYPE = "VoiceProfile"  # the GraphQL type name in its global ids


def profile_global_id(pk: int) -> str:
    return to_base64(PROFILE_TYPE, pk)


def profile_pk(global_id: Any) -> int | None:
    """The primary key behind a VoiceProfile global id; None for anything else."""
    return pk_from_global_id(global_id, PROFILE_TYPE)


def profiles_owned_by(user: Any) -> QuerySet[VoiceProfile]:
    if user is None or not getattr(user, "pk", None):
        return VoiceProfile.objects.none()
    return VoiceProfile.objects.filter(owner_id=user.pk)


def profiles_usable_by(user: Any, queryset: QuerySet[VoiceProfile] | None = None) -> QuerySet[VoiceProfile]:
    """The user's own profiles and those with an active (unrevoked) grant to them."""
    queryset = VoiceProfile.objects.all() if queryset is None else queryset
    if user is None or not getattr(user, "pk", None):
        return queryset.none()
    granted = Exists(
        VoiceProfileGrant.objects.filter(profile_id=OuterRef("pk"), user_id=user.pk, revoked_at__isnull=True)
    )
    return queryset.filter(Q(owner_id=user.pk) | Q(granted))


def profile_uses(profile: VoiceProfile) -> QuerySet[VoiceUse]:
    """Every time the profile sang, newest first."""
    return VoiceUse.objects.filter(profile=profile).select_related("user").order_by("-created_at", "-id")
