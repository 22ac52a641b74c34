"""Identity report and undoing a merge over HTTP."""

from __future__ import annotations

from builders import Api, new_card, new_phone, order


def test_identity_report_for_analysts(api: Api) -> None:
    api.post_orders(order(phone=new_phone()))
    response = api.client.get("/v1/identity/report", headers=api.auth("analyst"))
    assert response.status_code == 200
    report = response.json()
    assert report["members"] >= 1 and report["orders"] >= 1
    assert api.client.get("/v1/identity/report", headers=api.auth("marketer")).status_code == 403


def test_merge_can_be_undone_once(api: Api) -> None:
    card, phone = new_card(), new_phone()
    api.post_orders(order(card=card))
    api.post_orders(order(phone=phone))
    report = api.post_orders(order(card=card, phone=phone)).json()
    assert report["merges"] == 1
    survivor = api.member_id_for(phone)
    with api.runtime.sessions() as session:
        from sqlalchemy import select

        from memberops.identity.models import MergeRecord

        merge_id = session.scalars(
            select(MergeRecord.id).where(MergeRecord.survivor_id == survivor)
        ).one()
    url = f"/v1/identity/merges/{merge_id}/undo"
    undone = api.client.post(url, headers=api.auth("admin"))
    assert undone.status_code == 200, undone.text
    assert undone.json()["status"] == "undone"
    again = api.client.post(url, headers=api.auth("admin"))
    assert again.status_code == 409
    assert again.json()["error"] == "conflict"


def test_undo_of_unknown_merge_is_404(api: Api) -> None:
    response = api.client.post(
        "/v1/identity/merges/0123456789abcdef0123456789/undo", headers=api.auth("admin")
    )
    assert response.status_code == 404
