"""The UI's wire types are generated from the committed `frontend/openapi.json`; this keeps that file
equal to what the backend's code serves, so a field added to or dropped from an output model fails here.
(Vitest checks the other half: `frontend/src/api-types.ts` is what openapi-typescript makes of it.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "frontend" / "openapi.json"
REGENERATE = "scripts/openapi"


def differences(committed: Any, current: Any, where: str = "") -> Iterator[str]:
    """Where two JSON documents differ, as readable paths (`components.schemas.SeatOut.properties.x: added`)."""
    if isinstance(committed, dict) and isinstance(current, dict):
        for key in committed.keys() - current.keys():
            yield f"{where}{key}: removed"
        for key in current.keys() - committed.keys():
            yield f"{where}{key}: added"
        for key in committed.keys() & current.keys():
            yield from differences(committed[key], current[key], f"{where}{key}.")
    elif isinstance(committed, list) and isinstance(current, list) and committed != current:
        old, new = [json.dumps(x) for x in committed], [json.dumps(x) for x in current]
        changes = [f"-{x}" for x in old if x not in new] + [f"+{x}" for x in new if x not in old]
        yield f"{where.rstrip('.')}: {' '.join(changes)[:200] if changes else 'reordered'}"
    elif committed != current:
        yield f"{where.rstrip('.') or '(document)'}: {json.dumps(committed)[:80]} -> {json.dumps(current)[:80]}"


def current_document(tmp_path: Path) -> Any:
    """The document as the regenerate command writes it, from the code under test (no database needed)."""
    out = tmp_path / "openapi.json"
    subprocess.run(
        [str(ROOT / REGENERATE), "--json", str(out)],
        env={**os.environ, "PYTHON": sys.executable},
        check=True,
        timeout=300,
    )
    return json.loads(out.read_text(encoding="utf-8"))


def test_committed_openapi_document_matches_the_code(tmp_path: Path) -> None:
    committed = json.loads(COMMITTED.read_text(encoding="utf-8"))
    found = sorted(differences(committed, current_document(tmp_path)))
    assert not found, (
        f"frontend/openapi.json differs from the API's code; run `{REGENERATE}` and commit frontend/openapi.json "
        "with frontend/src/api-types.ts (then fix what tsc reports in frontend/):\n  " + "\n  ".join(found[:30])
    )


def test_differences_name_added_removed_and_changed_fields() -> None:
    """The failure message must point at the drifted field, not just say "differs"."""
    before = {"SeatOut": {"required": ["seatId"], "properties": {"seatId": {"type": "integer"}, "old": {}}}}
    after = {"SeatOut": {"required": ["seatId", "new"], "properties": {"seatId": {"type": "string"}, "new": {}}}}
    assert sorted(differences(before, after)) == [
        "SeatOut.properties.new: added",
        "SeatOut.properties.old: removed",
        'SeatOut.properties.seatId.type: "integer" -> "string"',
        'SeatOut.required: +"new"',
    ]
