"""The benchmark's scenario names and defaults: what `boxoffice bench --help` shows and the run uses.

Imports nothing, so the command line (`command.py`) can declare its options without loading the run.
"""

from __future__ import annotations

import os
from pathlib import Path

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
SCENARIOS = ("hot-seat", "spread", "sell-out")
"""Run by default; the inventory scenarios (`best-available`, `ga`) run when named."""
INVENTORY_SCENARIOS = ("best-available", "ga")
ALL_SCENARIOS = SCENARIOS + INVENTORY_SCENARIOS
PGBENCH = Path(os.environ.get("BOXOFFICE_PGBENCH", "/usr/bin/pgbench"))
PGBENCH_CLIENTS = 20
"""Measured on the 2-core machine (docs/benchmarks.md): 20 to 40 clients give the most claims/s."""
REDIS_URL = "redis://127.0.0.1:6379/0"
