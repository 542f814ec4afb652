"""The operating system's keyring as the :class:`~twinviewer.core.secrets.SecretStore` of live sources.

Service ``twinviewer``; the optional ``keyring`` package (without it nothing is remembered or found).
"""

from __future__ import annotations

KEYRING_SERVICE = "twinviewer"


class SystemKeyring:
    """Passwords in the OS keyring, user ``"<kind>:<host>:<username>"`` (``core.secrets.keyring_user``)."""

    def get(self, user: str) -> str | None:
        try:
            import keyring  # optional dependency
            from keyring.errors import KeyringError
        except ImportError:
            return None
        try:
            return keyring.get_password(KEYRING_SERVICE, user)
        except KeyringError:
            return None

    def save(self, user: str, text: str) -> bool:
        """Remember a password (the password dialog's "remember" box); False when no keyring is available."""
        try:
            import keyring
            from keyring.errors import KeyringError
        except ImportError:
            return False
        try:
            keyring.set_password(KEYRING_SERVICE, user, text)
        except KeyringError:
            return False
        return True


def keyring_available() -> bool:
    """True when the optional ``keyring`` package is installed and has a working backend to store into."""
    try:
        import keyring

        return keyring.get_keyring().priority > 0
    except Exception:  # not installed, or no usable backend (a headless Linux session has none)
        return False
