"""Names shared by the leaders' tests and their fixtures (a module of its own: test files import it, never
``conftest``, whose module name is not unique across the suite)."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ISSUED_MONTH = "2022-06"
CORRECTED_UNIT = "lianxi"
TEST_OUTPUT = REPO / "test-output" / "leaders"
