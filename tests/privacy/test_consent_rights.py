"""Who may record consent: the member or an admin with a reason over HTTP; never a staff
or till key, and never a separate-consent purpose through a till's order feed."""

from __future__ import annotations

from typing import Any

import pytest

from builders import STORE, Api, new_phone, order

GRANT = {"purpose": "marketing", "granted": True, "channel": "app", "notice_version": "2025-01"}


def _member(api: Api) -> tuple[str, str]:
    phone = new_phone()
    assert api.post_orders(order(phone=phone)).json()["members_created"] == 1
    return api.member_id_for(phone), phone


def _consents(api: Api, member_id: str) -> dict[str, bool]:
    response = api.client.get(f"/v1/members/{member_id}/consents", headers=api.auth("admin"))
    assert response.status_code == 200
    return dict(response.json()["consents"])


@pytest.mark.parametrize("role", ["staff", "pos", "marketer", "analyst"])
def test_other_roles_cannot_record_consent(api: Api, role: str) -> None:
    member_id, _ = _member(api)
    secret = api.key(role, store_code=STORE) if role in ("staff", "pos") else api.key(role)
    response = api.client.post(
        f"/v1/members/{member_id}/consents", json=GRANT, headers=api.auth(secret)
    )
    assert response.status_code == 403
    assert _consents(api, member_id)["marketing"] is False
    assert api.audit_entries(action="access.denied", secret=secret)


def test_the_member_records_their_own_consent(api: Api) -> None:
    member_id, _ = _member(api)
    own = api.auth(api.key("member", member_id=member_id))
    response = api.client.post(f"/v1/members/{member_id}/consents", json=GRANT, headers=own)
    assert response.status_code == 200
    assert response.json()["consents"]["marketing"] is True


def test_an_admin_needs_a_reason_which_is_audited(api: Api) -> None:
    member_id, _ = _member(api)
    secret = api.key("admin")
    url = f"/v1/members/{member_id}/consents"
    refused = api.client.post(url, json=GRANT, headers=api.auth(secret))
    assert refused.status_code == 422
    assert refused.json()["details"][0]["field"] == "reason"
    assert _consents(api, member_id)["marketing"] is False
    reason = "member's written request, ticket 4411"
    done = api.client.post(url, json={**GRANT, "reason": reason}, headers=api.auth(secret))
    assert done.status_code == 200
    (entry,) = api.audit_entries(action="consent.grant", secret=secret)
    assert reason in (entry.reason or "")


def _feed_consent(phone: str, purpose: str, **extra: Any) -> dict[str, Any]:
    return {
        "record_type": "consent",
        "source": "pos",
        "purpose": purpose,
        "granted": True,
        "at": "2025-03-14T19:06:00+08:00",
        "notice_version": "2025-01",
        "customer": {"phone": phone, "phone_verified": True},
        **extra,
    }


@pytest.mark.parametrize("purpose", ["partner_sharing", "sensitive_data"])
@pytest.mark.parametrize("poster", ["pos", "admin"])
def test_separate_consent_never_arrives_through_a_till_feed(
    api: Api, purpose: str, poster: str
) -> None:
    phone = new_phone()
    sale = order(phone=phone)
    secret = api.key("pos", store_code=STORE) if poster == "pos" else api.key("admin")
    body = {"orders": [sale, _feed_consent(phone, purpose)]}
    response = api.post_orders(body, as_=secret)
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["orders_created"] == 1  # the sale is kept
    assert report["consents_recorded"] == 0
    assert report["warnings"] >= 1
    assert any(purpose in w["reason"] for w in report["warning_details"])
    assert _consents(api, api.member_id_for(phone))[purpose] is False


def test_a_till_still_records_ordinary_marketing_consent(api: Api) -> None:
    phone = new_phone()
    secret = api.key("pos", store_code=STORE)
    body = {"orders": [order(phone=phone), _feed_consent(phone, "marketing")]}
    report = api.post_orders(body, as_=secret).json()
    assert report["consents_recorded"] == 1
    assert _consents(api, api.member_id_for(phone))["marketing"] is True
