"""Tables in an 80-column terminal keep every id whole."""

from __future__ import annotations

import pytest
from rich.console import Console

from memberops.cli import common


def test_ids_are_never_cut_at_80_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    narrow = Console(width=80, record=True, force_terminal=False)
    monkeypatch.setattr(common, "console", narrow)
    ids = ["01a233c910f73a55dec808803a", "01a233c911504797f88f97396b"]
    rows = [
        {"case": "c1", "members": ids[0], "other": ids[1], "why": "shared phone " * 6},
    ]
    common.print_rows(
        "reviews", rows, {"case": "case", "members": "member", "other": "other", "why": "why"}
    )
    text = narrow.export_text()
    for member_id in ids:
        assert member_id in text
