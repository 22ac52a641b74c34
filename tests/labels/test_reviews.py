"""Notes the guard cannot recognise wait for a manager: API and CLI."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from memberops.db import transaction
from memberops.labels import cli as review_cli
from memberops.labels.cli import SCREEN_NEEDS_REVIEW, app
from memberops.labels.models import Label
from memberops.runtime import Runtime

from .test_endpoints import TestClient, actions, add_member, client, key, note

__all__ = ["client"]

runner = CliRunner()
HELD = "comes by bike"  # not a recognised need, not forbidden: a manager decides


def test_unrecognised_note_is_held_then_approved_with_a_reason(
    runtime: Runtime, client: TestClient
) -> None:
    member_id = add_member(runtime)
    written = client.post(
        f"/v1/members/{member_id}/labels", json=note(text=HELD), headers=key(runtime, "staff")
    )
    assert written.status_code == 201, written.text
    assert written.json()["status"] == "in_review"
    admin = key(runtime, "admin")
    assert client.get("/v1/label-reviews", headers=key(runtime, "staff")).status_code == 403
    listed = client.get("/v1/label-reviews", headers=admin).json()
    assert [r["text"] for r in listed] == [HELD]
    review_id = listed[0]["id"]
    approved = client.post(
        f"/v1/label-reviews/{review_id}/approve", json={"reason": "an incident"}, headers=admin
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved"
    again = client.post(
        f"/v1/label-reviews/{review_id}/reject", json={"reason": "late"}, headers=admin
    )
    assert again.status_code == 409
    with transaction(runtime.sessions) as session:
        label = session.get(Label, written.json()["id"])
        assert label is not None and label.status == "active"
    assert "labels.review.approve" in actions(runtime, member_id)


def test_rejected_review_erases_the_text(runtime: Runtime, client: TestClient) -> None:
    member_id = add_member(runtime)
    written = client.post(
        f"/v1/members/{member_id}/labels",
        json=note(text="认出他就行"),
        headers=key(runtime, "staff"),
    )
    assert written.json()["status"] == "in_review", written.text
    admin = key(runtime, "admin")
    review_id = client.get("/v1/label-reviews", headers=admin).json()[0]["id"]
    rejected = client.post(
        f"/v1/label-reviews/{review_id}/reject", json={"reason": "describes him"}, headers=admin
    )
    assert rejected.json()["status"] == "rejected"
    with transaction(runtime.sessions) as session:
        label = session.get(Label, written.json()["id"])
        assert label is not None and label.status == "rejected" and label.text_enc is None


def test_cli_lists_and_decides_reviews(
    runtime: Runtime, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The commands open the runtime from the environment; here, the test's own runtime.
    monkeypatch.setattr(review_cli, "open_cli_runtime", lambda: runtime)
    member_id = add_member(runtime)
    client.post(
        f"/v1/members/{member_id}/labels", json=note(text=HELD), headers=key(runtime, "staff")
    )
    listed = runner.invoke(app, ["reviews", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.output)
    assert [r["text"] for r in rows] == [HELD]
    decided = runner.invoke(
        app, ["reviews", "reject", rows[0]["id"], "--reason", "not a need", "--json"]
    )
    assert decided.exit_code == 0, decided.output
    assert json.loads(decided.output)["status"] == "rejected"
    assert "labels.review.reject" in actions(runtime, member_id)


def test_screen_exits_with_the_needs_review_code() -> None:
    result = runner.invoke(app, ["screen", HELD])
    assert result.exit_code == SCREEN_NEEDS_REVIEW
