"""After erasure nothing of the member's labels is shown or kept; the export names each
order's store; every import is in the audit chain (who, which batch, how many)."""

from __future__ import annotations

from builders import STORE, Api, new_phone, order
from memberops.db import new_id, transaction
from memberops.labels.models import Label


def _member(api: Api) -> tuple[str, str]:
    phone = new_phone()
    assert api.post_orders(order(phone=phone)).json()["members_created"] == 1
    return api.member_id_for(phone), phone


def test_after_erasure_no_label_code_or_reason_is_shown_or_kept(api: Api) -> None:
    member_id, _ = _member(api)
    label_id = new_id()
    with transaction(api.runtime.sessions) as session:
        session.add(
            Label(
                id=label_id,
                member_id=member_id,
                category="service_need",
                code="modifier:no coriander",
                source="computed",
                created_by="system:pipeline",
                reason="seen on 3 orders",
                rule_id="service_need.modifier",
            )
        )
    admin = api.auth("admin")
    url = f"/v1/members/{member_id}/labels"
    before = api.client.get(url, params={"include_inactive": True}, headers=admin)
    assert "no coriander" in before.text  # shown while the member exists
    erased = api.client.request(
        "DELETE", f"/v1/members/{member_id}", json={"reason": "R-9"}, headers=admin
    )
    assert erased.status_code == 200
    after = api.client.get(url, params={"include_inactive": True}, headers=admin)
    assert after.status_code in (200, 404)
    assert "no coriander" not in after.text and "seen on 3 orders" not in after.text
    with transaction(api.runtime.sessions) as session:
        label = session.get(Label, label_id)
        assert label is not None
        assert (label.code, label.reason, label.rule_id, label.text_enc) == (None, None, None, None)


def test_the_export_names_each_orders_store(api: Api) -> None:
    member_id, phone = _member(api)
    assert api.post_orders(order(phone=phone, store_code="S002")).status_code == 200
    own = api.auth(api.key("member", member_id=member_id))
    data = api.client.get(f"/v1/members/{member_id}/export", headers=own).json()
    assert sorted(o["store_code"] for o in data["orders"]) == [STORE, "S002"]


def test_every_import_is_audited_with_who_which_batch_and_how_many(api: Api) -> None:
    secret = api.key("pos", store_code=STORE)
    body = {"orders": [order(phone=new_phone()), order(phone=new_phone())]}
    response = api.post_orders(body, as_=secret)
    assert response.status_code == 200, response.text
    batch_id = response.json()["batch_id"]
    (entry,) = api.audit_entries(action="orders.import", secret=secret)
    assert batch_id in (entry.reason or "")
    assert "2 records" in (entry.reason or "")
    assert "2 orders" in (entry.reason or "")


def test_a_cli_import_is_audited(cli, tmp_path, seeded, make_order, person) -> None:  # type: ignore[no-untyped-def]
    import json

    from memberops.privacy import audit

    path = tmp_path / "orders.jsonl"
    path.write_text(json.dumps(make_order(person(77)), default=str) + "\n")
    result = cli("import", "orders", str(path))
    assert result.exit_code == 0, result.output
    with transaction(seeded.sessions) as session:
        (entry,) = audit.list_entries(session, actions=["orders.import"])
    assert "1 records" in (entry.reason or "")
