"""Writes on accounts: registration, sign-in (which claims the session's anonymous work)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate, get_user_model, login, logout
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from modules.composition.models import Composition
from modules.composition.selectors import session_digest
from modules.composition.stages import InputError


def user_register(*, username: str, password: str, email: str = "") -> Any:
    username = (username or "").strip()
    user_model = get_user_model()
    if not username or len(username) > 150:
        raise InputError("username", "username must be 1 to 150 characters")
    if user_model.objects.filter(username__iexact=username).exists():
        raise InputError("username", f"the username {username!r} is taken")
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise InputError("email", f"{email!r} is not an email address") from None
    try:
        validate_password(password, user=user_model(username=username, email=email))
    except ValidationError as error:
        raise InputError("password", " ".join(error.messages)) from None
    return user_model.objects.create_user(username=username, email=email, password=password)


def user_login(request: Any, *, username: str, password: str) -> Any:
    """A session for the user; compositions the session made anonymously become theirs."""
    user = authenticate(request, username=username, password=password)
    if user is None:
        raise InputError("password", "wrong username or password")
    anonymous = session_digest(request.session.session_key)
    login(request, user)  # cycles the session key (no session fixation)
    if anonymous:
        Composition.objects.filter(owner__isnull=True, anonymous_session=anonymous).update(
            owner=user, anonymous_session=""
        )
    return user


def user_logout(request: Any) -> None:
    logout(request)
