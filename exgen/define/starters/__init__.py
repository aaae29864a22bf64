"""Starting points for a new definition (exgen new NAME --from KIND): small, commented
definitions that build at once, one per kind of network, each with variants."""

from __future__ import annotations

import re
import secrets
from importlib import resources
from pathlib import Path

from exgen.errors import ArgumentError, OutputError

DEFAULT = "mlp"
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
PLACEHOLDER_SECRET = "change-this-secret"


def starters() -> list[str]:
    """The starters' names, sorted."""
    return sorted(
        f.name[: -len(".yaml")]
        for f in resources.files(__name__).iterdir()
        if f.name.endswith(".yaml")
    )


def starter_text(kind: str) -> str:
    """The starter's text as shipped."""
    if kind not in starters():
        raise ArgumentError(f"unknown starter '{kind}' (starters: {', '.join(starters())})")
    return resources.files(__name__).joinpath(f"{kind}.yaml").read_text(encoding="utf-8")


def write_starter(name: str, kind: str, cwd: Path) -> str:
    """Write exercises/NAME.yaml from the starter ``kind``, with a fresh variants secret;
    return the file as shown. Never overwrites."""
    if not NAME.fullmatch(name):
        raise ArgumentError(
            f"'{name}' is not a sheet name (letters, digits, '_' and '-', at most 64, "
            f"starting with a letter or digit)"
        )
    text = starter_text(kind).replace(PLACEHOLDER_SECRET, secrets.token_hex(8))
    shown = f"exercises/{name}.yaml"
    folder = cwd / "exercises"
    try:
        folder.mkdir(exist_ok=True)
    except FileExistsError:
        raise OutputError(f"cannot write {shown} (exercises is not a folder)") from None
    except OSError as exc:
        raise OutputError(f"cannot write {shown} ({exc.strerror or exc})") from None
    try:
        with open(folder / f"{name}.yaml", "x", encoding="utf-8", newline="\n") as out:
            out.write(text)
    except FileExistsError:
        raise ArgumentError(
            f"{shown} already exists; exgen new does not overwrite it "
            f"(choose another name, or delete the file first)"
        ) from None
    except OSError as exc:
        raise OutputError(f"cannot write {shown} ({exc.strerror or exc})") from None
    return shown


SCHEMA_FILE = "schema/exgen.schema.json"  # where the starters' modeline points


def write_schema(cwd: Path) -> str | None:
    """schema/exgen.schema.json beside exercises/, for the modeline's editors, when there
    is none (one there is the course's: left as it is); the file as shown, or None."""
    from exgen.define.json_schema import schema_text

    path = cwd / SCHEMA_FILE
    if path.exists():
        return None
    try:
        path.parent.mkdir(exist_ok=True)
        with open(path, "x", encoding="utf-8", newline="\n") as out:
            out.write(schema_text())
    except OSError as exc:
        raise OutputError(f"cannot write {SCHEMA_FILE} ({exc.strerror or exc})") from None
    return SCHEMA_FILE
