from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry


@strawberry.type(description="A step in the making of a composition. `seq` increases by one per event.")
class ProgressEvent:
    composition_id: strawberry.ID
    seq: int
    stage: str | None = strawberry.field(description="The stage, or null for the composition itself.")
    status: str = strawberry.field(
        description="QUEUED, RUNNING, STARTED, PROGRESS, SUCCEEDED, SKIPPED, FAILED or CANCELLED."
    )
    progress: float
    message: str
    created_at: datetime
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
