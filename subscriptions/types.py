from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry


@strawberry.type(description="A step in the making of a composition. `seq` increases by one per event.")
class ProgressEvent:
    composition_id: strawberry.ID = strawberry.field(description="The Composition's global id.")
    seq: int = strawberry.field(
        description="1 for the composition's first event, then up by one; pass the last one you saw as "
        "`afterSeq` to resume without gaps."
    )
    stage: str | None = strawberry.field(description="The stage, or null for the composition itself.")
    status: str = strawberry.field(
        description="For the composition: QUEUED, RUNNING, SUCCEEDED, FAILED or CANCELLED. For a stage: "
        "STARTED, PROGRESS, RETRYING, SUCCEEDED, SKIPPED or FAILED."
    )
    progress: float = strawberry.field(description="0 to 1: how far the stage (or composition) is.")
    message: str = strawberry.field(
        description="A short human-readable note, e.g. 'encoding' or why it failed; may be empty."
    )
    created_at: datetime = strawberry.field(description="When the event happened.")
    terminal: bool = strawberry.field(description="True for the last event of the composition.")

    @classmethod
    def from_payload(cls, payload: dict[str, Any], global_id: str) -> ProgressEvent:
        from .events import is_terminal

        created = payload["created_at"]
        return cls(
            composition_id=strawberry.ID(global_id),
            seq=payload["seq"],
            stage=payload["stage"] or None,
            status=payload["status"],
            progress=payload["progress"],
            message=payload["message"],
            created_at=datetime.fromisoformat(created) if isinstance(created, str) else created,
            terminal=is_terminal(payload),
        )
