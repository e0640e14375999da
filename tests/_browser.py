"""Locate a headless Chromium for the tests that render reports."""

from __future__ import annotations

import os
import shutil


def chromium() -> str | None:
    """Return the path of a Chromium executable, or None when none is installed."""
    for name in ("/usr/bin/chromium", "chromium", "chromium-browser"):
        found = (
            shutil.which(name)
            if not os.path.isabs(name)
            else (name if os.path.exists(name) else None)
        )
        if found:
            return found
    return None
