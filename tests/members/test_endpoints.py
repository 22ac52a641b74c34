"""Member routes: lookup, self-access, export, erasure and consent."""

from __future__ import annotations

from builders import Api, new_phone, order


def _member(api: Api) -> tuple[str, str]:
    """A new member (created by an order with a verified phone): (id, phone)."""
    phone = new_phone()
    assert api.post_orders(order(phone=phone)).json()["members_created"] == 1
    return api.member_id_for(phone), phone


def test_front_desk_lookup_masks_the_phone_and_is_audited(api: Api) -> None:
    member_id, phone = _member(api)
    secret = api.key("staff", store_code="S001")
    response = api.client.get("/v1/members", params={"query": phone}, headers=api.auth(secret))
    assert response.status_code == 200
    (match,) = response.json()["members"]
    national = phone.replace("+86", "").replace(" ", "")
    assert match == {
        "id": member_id,
        "tier": "red",
        "phone": f"{national[:3]}****{national[-4:]}",
        "discount_bp": None,
    }
    assert national not in response.text
    (entry,) = api.audit_entries(action="member.lookup", secret=secret)
    assert entry.member_id == member_id
    assert national not in (entry.reason or "")


def test_lookup_of_unknown_phone_finds_nothing(api: Api) -> None:
    response = api.client.get("/v1/members", params={"query": new_phone()}, headers=api.auth("pos"))
    assert response.status_code == 200
    assert response.json() == {"members": []}


def test_member_reads_own_profile_but_another_member_is_404(api: Api) -> None:
    me, phone = _member(api)
    other, _ = _member(api)
    secret = api.key("member", member_id=me)
    own = api.client.get(f"/v1/members/{me}", headers=api.auth(secret))
    assert own.status_code == 200
    (ident,) = [i for i in own.json()["identifiers"] if i["kind"] == "phone"]
    assert ident["value"] == phone.replace(" ", "")  # their own data, in full
    theirs = api.client.get(f"/v1/members/{other}", headers=api.auth(secret))
    missing = api.client.get("/v1/members/0123456789abcdef0123456789", headers=api.auth(secret))
    assert theirs.status_code == missing.status_code == 404
    # Nothing tells an existing stranger from an id that does not exist.
    assert theirs.json() == {"error": "not_found", "message": f"member {other} not found"}
    denials = api.audit_entries(action="access.denied", secret=secret)
    assert {d.member_id for d in denials} == {other, "0123456789abcdef0123456789"}


def test_member_cannot_export_or_erase_another_member(api: Api) -> None:
    me, _ = _member(api)
    other, _ = _member(api)
    secret = api.key("member", member_id=me)
    assert (
        api.client.get(f"/v1/members/{other}/export", headers=api.auth(secret)).status_code == 404
    )
    erase = api.client.request(
        "DELETE", f"/v1/members/{other}", json={"reason": "x"}, headers=api.auth(secret)
    )
    assert erase.status_code == 404
    assert api.client.get(f"/v1/members/{other}", headers=api.auth("admin")).status_code == 200


def test_marketer_and_analyst_see_a_pseudonym_and_no_identifiers(api: Api) -> None:
    member_id, phone = _member(api)
    for role in ("marketer", "analyst"):
        response = api.client.get(f"/v1/members/{member_id}", headers=api.auth(role))
        assert response.status_code == 200
        assert phone.replace(" ", "")[-4:] not in response.text
        assert member_id not in response.text
        assert response.json()["id"].startswith("p_")


def test_export_holds_orders_and_consents(api: Api) -> None:
    member_id, _ = _member(api)
    secret = api.key("member", member_id=member_id)
    grant = {"purpose": "marketing", "granted": True, "channel": "app", "notice_version": "v3"}
    api.client.post(f"/v1/members/{member_id}/consents", json=grant, headers=api.auth(secret))
    response = api.client.get(f"/v1/members/{member_id}/export", headers=api.auth(secret))
    assert response.status_code == 200
    data = response.json()
    assert len(data["orders"]) == 1
    assert data["orders"][0]["lines"][0]["quantity"] == 2
    assert data["consents"]["current"]["marketing"] is True
    assert data["consents"]["history"][0]["notice_version"] == "v3"


def test_erasure_forgets_the_phone_and_is_idempotent(api: Api) -> None:
    member_id, phone = _member(api)
    secret = api.key("member", member_id=member_id)
    first = api.client.request(
        "DELETE",
        f"/v1/members/{member_id}",
        json={"reason": "member asked"},
        headers=api.auth(secret),
    )
    assert first.status_code == 200
    assert first.json() == {"erased": True, "already_erased": False}
    again = api.client.request(
        "DELETE",
        f"/v1/members/{member_id}",
        json={"reason": "asked again"},
        headers=api.auth("admin"),
    )
    assert again.status_code == 200
    assert again.json() == {"erased": False, "already_erased": True}
    lookup = api.client.get("/v1/members", params={"query": phone}, headers=api.auth("staff"))
    assert lookup.json() == {"members": []}
    by_id = api.client.get("/v1/members", params={"query": member_id}, headers=api.auth("staff"))
    assert by_id.json() == {"members": []}
    assert api.client.get(f"/v1/members/{member_id}", headers=api.auth("admin")).status_code == 404


def test_erasure_needs_a_reason(api: Api) -> None:
    member_id, _ = _member(api)
    response = api.client.request("DELETE", f"/v1/members/{member_id}", headers=api.auth("admin"))
    assert response.status_code == 422
    response = api.client.request(
        "DELETE", f"/v1/members/{member_id}", json={"reason": ""}, headers=api.auth("admin")
    )
    assert response.status_code == 422


def test_consent_granted_then_withdrawn(api: Api) -> None:
    member_id, _ = _member(api)
    url = f"/v1/members/{member_id}/consents"
    own = api.auth(api.key("member", member_id=member_id))
    before = api.client.get(url, headers=api.auth("staff")).json()
    assert before["consents"]["profiling"] is False
    decision = {"purpose": "profiling", "granted": True, "channel": "app", "notice_version": "v3"}
    granted = api.client.post(url, json=decision, headers=own)
    assert granted.status_code == 200
    assert granted.json()["consents"]["profiling"] is True
    withdrawn = api.client.post(url, json={**decision, "granted": False}, headers=own)
    assert withdrawn.json()["consents"]["profiling"] is False
    assert api.client.get(url, headers=api.auth("staff")).json()["consents"]["profiling"] is False


def test_consent_body_is_strict(api: Api) -> None:
    member_id, _ = _member(api)
    url = f"/v1/members/{member_id}/consents"
    decision = {
        "purpose": "marketing",
        "granted": True,
        "channel": "app",
        "notice_version": "v3",
        "reason": "member asked at the service desk, signed form 17",
    }
    for bad in (
        {**decision, "granted": "yes"},
        {**decision, "member_id": member_id},
        {**decision, "purpose": "selling_data"},
    ):
        response = api.client.post(url, json=bad, headers=api.auth("admin"))
        assert response.status_code == 422, bad
    assert api.client.post(url, json=decision, headers=api.auth("pos")).status_code == 403


def test_id_that_is_not_an_opaque_id_is_refused_without_echo(api: Api) -> None:
    response = api.client.get("/v1/members/13912345678", headers=api.auth("admin"))
    assert response.status_code == 422
    assert "13912345678" not in response.text
    (detail,) = response.json()["details"]
    assert (detail["record"], detail["field"]) == ("path", "member_id")
    assert "[0-9a-f]{26}" in detail["reason"]  # says what an id looks like
