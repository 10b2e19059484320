"""The project's CloudFormation templates as the checks read them, for the tests."""

from __future__ import annotations

import sys
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def load_template(name: str) -> dict:
    """`ecs/<name>` with its tags resolved as `timing_check` reads it; the calling test is
    skipped where the check tools are not installed (`ecs/check.sh` installs them)."""
    sys.path.insert(0, str(ROOT / "ecs"))
    try:
        from timing_check import load_cfn
    except ImportError as missing:
        raise unittest.SkipTest(f"{missing} (ecs/check.sh installs the check tools)") from missing
    return load_cfn(ROOT / "ecs" / name)
