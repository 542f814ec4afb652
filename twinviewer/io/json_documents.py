"""Reading a small JSON document of ours (a learned model, a sidecar) with a size budget and pydantic
validation: every refusal is one error that names the file and, for a broken rule, the key."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

Document = TypeVar("Document", bound=BaseModel)


def read_json_document(path: Path, schema: type[Document], error: type[Exception], what: str,
                       max_bytes: int) -> Document:
    """``schema`` validated from the JSON file at ``path``; ``error(message)`` is raised for a file that is
    too large (over ``max_bytes``), unreadable, not JSON, nested too deeply or breaking a rule. ``what``
    names the document in messages ("an anomaly model")."""
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise error(f"{path}: {size} bytes is more than {what} may hold ({max_bytes})")
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise error(f"{path}: cannot read {what} ({exc.strerror or exc})") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise error(f"{path}: not JSON ({exc})") from exc
    except RecursionError:
        raise error(f"{path}: not {what}: its JSON is nested too deeply") from None
    try:
        return schema.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "document"
        raise error(f"{path}: {where}: {first['msg']}") from exc


def write_json_document(path: Path, data: object, error: type[Exception], what: str,
                        indent: int | None = None) -> Path:
    """Write ``data`` as JSON atomically (a temporary file moved into place); ``error`` names the file and
    ``what`` ("the anomaly model") when it cannot be written, and no temporary file is left behind."""
    temporary = path.with_name(path.name + ".tmp")
    try:
        temporary.write_text(json.dumps(data, indent=indent) + "\n", encoding="utf-8")
        os.replace(temporary, path)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise error(f"{path}: cannot write {what} ({exc.strerror or exc})") from exc
    return path
