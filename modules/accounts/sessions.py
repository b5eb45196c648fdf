"""Anonymous ownership rides on the Django session: made here when first needed."""

from __future__ import annotations

import dataclasses
from typing import Any

from django.middleware.csrf import get_token

from .caller import Caller


def caller_with_session(caller: Caller, request: Any) -> Caller:
    """An anonymous caller with a session key (created, and its cookie set, if it had none).

    The CSRF cookie is issued with it: the next mutation carries the session cookie, and
    Django's CSRF check then wants the token back in the X-CSRFToken header.
    """
    if caller.is_authenticated or caller.session_key:
        return caller
    session = getattr(request, "session", None)
    if session is None:
        return caller
    if session.session_key is None:
        session["coda_anonymous"] = True
        session.save()
    get_token(request)
    return dataclasses.replace(caller, session_key=session.session_key)
