"""The chain builder is shared with the CLV tests (tests/clv/chain.py): make the tests
folder importable so `clv.chain` resolves when this folder runs alone."""

from __future__ import annotations

import sys
from pathlib import Path

TESTS = str(Path(__file__).resolve().parents[1])
if TESTS not in sys.path:
    sys.path.insert(0, TESTS)
