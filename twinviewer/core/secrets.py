"""Passwords for live sources, found without ever writing them into a project file, journal or log.

Order: the environment variable named by the source's ``password_env``; then the operating system's
keyring (service ``twinviewer``, user ``"<kind>:<host>:<username>"``, through the :class:`SecretStore`
the caller passes: ``io/keyring_store.py`` when the optional ``keyring`` package is installed); then a prompt callback the UI or CLI supplies (a dialog, ``getpass``), whose answer
can ask to remember the password in the keyring (:class:`PromptAnswer`). The result is
a :class:`Secret`, whose ``repr``/``str`` never show the text, so it cannot leak through a log line or a
status snapshot; :func:`redact` scrubs known secrets from any text that is about to be shown or stored.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

from twinviewer.core.errors import TwinViewerError


@dataclass(frozen=True)
class PromptAnswer:
    """A prompt's answer that may also ask to keep the password in the system keyring."""

    text: str
    remember: bool = False


PasswordPrompt = Callable[[str], "str | PromptAnswer | None"]


class SecretError(TwinViewerError):
    """A password that was asked for but cannot be found."""


class Secret:
    """A password. ``reveal()`` gives the text; printing or logging it shows ``'***'``."""

    __slots__ = ("_text", "origin")

    def __init__(self, text: str, origin: str):
        self._text = text
        self.origin = origin

    def reveal(self) -> str:
        return self._text

    def __repr__(self) -> str:
        return f"Secret(*** from {self.origin})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._text == self._text

    def __hash__(self) -> int:
        return hash(("Secret", self._text))


def keyring_user(kind: str, host: str, username: str) -> str:
    return f"{kind}:{host}:{username}"


class SecretStore(Protocol):
    """Where remembered passwords live (the system keyring: :class:`twinviewer.io.keyring_store.SystemKeyring`)."""

    def get(self, user: str) -> str | None: ...

    def save(self, user: str, text: str) -> bool: ...


_ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")


def env_name_for_display(password_env: str) -> str:
    """The variable's name as it may be shown, or a placeholder when the 'name' may be the password itself.

    Environment variable names are upper case by convention (``TWINVIEWER_MQTT_PASSWORD``); anything else
    in ``password_env`` could be a password typed into the wrong field, and is never printed."""
    return password_env if _ENV_NAME.match(password_env) else "(named by password_env; not shown, it may be a secret)"


def resolve_password(*, kind: str, host: str, username: str | None, password_env: str | None,
                     prompt: PasswordPrompt | None = None,
                     environ: Mapping[str, str] | None = None,
                     store: SecretStore | None = None) -> Secret | None:
    """The password for ``username`` at ``host``, or None when the source needs none; ``store`` is the
    keyring (None: none).

    Raises SecretError when ``password_env`` names a variable that is not set and neither the keyring nor
    the prompt gives a password.
    """
    variables: Mapping[str, str] = os.environ if environ is None else environ
    if password_env:
        text = variables.get(password_env)
        if text is not None:
            return Secret(text, f"environment variable {env_name_for_display(password_env)}")
    if username:
        user = keyring_user(kind, host, username)
        text = store.get(user) if store is not None else None
        if text is not None:
            return Secret(text, "keyring")
        if prompt is not None:
            answer = prompt(f"Password for {username} at {host} ({kind})")
            if isinstance(answer, PromptAnswer):
                if answer.remember and store is not None and store.save(user, answer.text):
                    return Secret(answer.text, "prompt, now in the keyring")
                return Secret(answer.text, "prompt")
            if answer is not None:
                return Secret(answer, "prompt")
    if password_env:
        raise SecretError(f"the environment variable {env_name_for_display(password_env)} (password_env of the "
                          f"{kind} source at {host}) is not set, and no keyring entry or prompt gave a password")
    return None


def redact(text: str, secrets: Iterable[Secret | str | None]) -> str:
    """``text`` with every known secret replaced by ``***``."""
    for secret in secrets:
        value = secret.reveal() if isinstance(secret, Secret) else secret
        if value:
            text = text.replace(value, "***")
    return text
