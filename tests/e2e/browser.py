"""Browser tests' shared pieces (Debian's chromium driven by Playwright): where chromium is, the
skip marker when it is missing, and where screenshots go. The fixtures ``live_server`` and
``browser`` are in ``conftest.py``."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("BLACKLIST_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

needs_chromium = pytest.mark.skipif(
    not (os.path.exists(CHROMIUM) or shutil.which("chromium")),
    reason=f"chromium not found at {CHROMIUM}: run `make browser` (as root with apt-get) "
    "or set BLACKLIST_CHROMIUM",
)
