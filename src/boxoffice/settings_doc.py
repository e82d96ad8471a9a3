"""The settings reference (docs/settings.md), generated from the groups in `boxoffice.settings`.

Kept apart from the settings themselves: only `scripts/settings-doc` and the docs test load it.
Run `python -m boxoffice.settings_doc` to print the page.
"""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

import annotated_types
from pydantic.fields import FieldInfo

from boxoffice.settings import GROUPS, env_names


def _type_name(annotation: Any) -> str:
    args = [a for a in get_args(annotation) if a is not type(None)]
    if get_origin(annotation) is Literal:
        return ", ".join(f"`{a}`" for a in args)
    if args and len(args) < len(get_args(annotation)):  # X | None
        return _type_name(args[0])
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return ", ".join(f"`{m.value}`" for m in annotation)
    names = {bool: "bool", int: "integer", float: "number", str: "string", Path: "path"}
    return names.get(annotation, str(annotation))


def _number(value: object) -> str:
    return format(value, "g") if isinstance(value, float) else str(value)


def _default(field: FieldInfo) -> str:
    extra = field.json_schema_extra
    if isinstance(extra, dict) and "doc_default" in extra:
        return str(extra["doc_default"])
    value = field.default
    if value is None:
        return "unset"
    if value == "":
        return "empty"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, Enum):
        return f"`{value.value}`"
    return f"`{_number(value) if isinstance(value, int | float) else value}`"


def _range(low: str, high: str, unit: str = "") -> str:
    if low and high:
        return f"{low}-{high}{unit}"
    if low:
        return low + unit if low.startswith(">") else f"at least {low}{unit}"
    return f"at most {high}{unit}" if high else ""


def _bounds(field: FieldInfo) -> str:
    """What validation accepts: a number's range (">0" excludes 0) or a string's length."""
    low = high = shortest = longest = ""
    for meta in field.metadata:
        if isinstance(meta, annotated_types.Ge):
            low = _number(meta.ge)
        elif isinstance(meta, annotated_types.Gt):
            low = f">{_number(meta.gt)}"
        elif isinstance(meta, annotated_types.Le):
            high = _number(meta.le)
        elif isinstance(meta, annotated_types.MinLen):
            shortest = str(meta.min_length)
        elif isinstance(meta, annotated_types.MaxLen):
            longest = str(meta.max_length)
    return _range(low, high) or _range(shortest, longest, " chars")


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def markdown() -> str:
    """docs/settings.md: one table per group."""
    out = [
        "# Settings reference",
        "",
        "<!-- Generated from src/boxoffice/settings.py by scripts/settings-doc: edit the settings' "
        "descriptions there, then run it. -->",
        "",
        "Environment variables (or a `.env` file in the working directory), validated at start-up: a value "
        "out of its bounds stops the server with a message naming it. Durations and sizes carry their unit "
        "in the name (`_S` seconds, `_MS` milliseconds, `_BYTES`).",
    ]
    for group in GROUPS:
        title, _, intro = (group.__doc__ or "").strip().partition("\n")
        out += ["", f"## {title.strip()}", "", " ".join(intro.split()), ""]
        out += ["| Variable | Type | Default | Bounds | Description |", "| --- | --- | --- | --- | --- |"]
        for name, field in group.model_fields.items():
            variable = " or ".join(f"`{env}`" for env in env_names(name, field))
            cells = (variable, _type_name(field.annotation), _default(field), _bounds(field), field.description or "")
            out.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    if sys.argv[1:]:
        sys.exit("usage: python -m boxoffice.settings_doc")
    sys.stdout.write(markdown())
