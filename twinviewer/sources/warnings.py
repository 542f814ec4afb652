"""Security warnings about a project's live sources: a password that would cross the network in clear text.

An MQTT source with a ``username`` and ``tls = false`` sends its password unencrypted in the CONNECT packet;
an OPC UA source with ``security_policy = "None"`` and a ``username`` sends it over an unencrypted channel.
``twinviewer validate``, ``twinviewer record`` and the window's status bar show these warnings; nothing
is refused, since a test rig on a private network may want exactly that.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def clear_text_warnings(sources: Iterable[Any]) -> list[str]:
    """One sentence per source whose password would go over the network unencrypted."""
    warnings = []
    for source in sources:
        kind = getattr(source, "kind", "")
        label = f"{kind} source {source.name!r}" if getattr(source, "name", "") else f"{kind} source"
        if kind == "mqtt" and source.username and not source.tls:
            warnings.append(f"{label} at {source.host}:{source.port} sends the password of user "
                            f"{source.username!r} in clear text (tls = false); set tls = true and ca_file")
        elif kind == "opcua" and source.username and source.security_policy == "None":
            warnings.append(f"{label} at {source.endpoint} sends the password of user {source.username!r} "
                            "without encryption (security_policy = \"None\"); set security_policy, "
                            "security_mode = \"SignAndEncrypt\", cert_file and key_file")
    return warnings
