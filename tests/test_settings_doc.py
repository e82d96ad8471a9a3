"""docs/settings.md is generated from the settings' groups (`scripts/settings-doc`); this keeps the
committed file equal to the code, so a setting added, changed or left without a description fails here."""

from __future__ import annotations

import difflib
import os
import subprocess
import sys
from pathlib import Path

from boxoffice.settings import GROUPS, Settings, env_names
from boxoffice.settings_doc import markdown

ROOT = Path(__file__).resolve().parents[1]
COMMITTED = ROOT / "docs" / "settings.md"


def test_every_setting_has_a_description() -> None:
    missing = [
        f"{group.__name__}.{name}"
        for group in GROUPS
        for name, field in group.model_fields.items()
        if not (field.description or "").strip()
    ]
    assert missing == [], f"describe these settings (Field(description=...)): {missing}"
    assert all((group.__doc__ or "").strip() for group in GROUPS), "every group needs a docstring (its heading)"


def test_committed_reference_matches_the_settings() -> None:
    committed = COMMITTED.read_text(encoding="utf-8")
    generated = markdown()
    diff = "".join(
        difflib.unified_diff(
            committed.splitlines(keepends=True), generated.splitlines(keepends=True), "committed", "generated"
        )
    )
    assert committed == generated, f"docs/settings.md is stale: run scripts/settings-doc\n{diff[:3000]}"


def test_every_variable_is_in_the_reference() -> None:
    text = COMMITTED.read_text(encoding="utf-8")
    absent = [env for name, f in Settings.model_fields.items() for env in env_names(name, f) if f"`{env}`" not in text]
    assert absent == []


def test_the_generator_command_prints_the_reference() -> None:
    """What scripts/settings-doc runs (the generator and the settings alone: the import layers keep the server out)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    command = [sys.executable, "-m", "boxoffice.settings_doc"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=True, timeout=60)
    assert done.stdout == COMMITTED.read_text(encoding="utf-8")
    refused = subprocess.run([*command, "--json"], env=env, capture_output=True, text=True, timeout=60)
    assert refused.returncode != 0
    assert "usage" in refused.stderr
