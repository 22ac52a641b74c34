"""A running server follows a key rotation: no "nobody", no 500, without a restart."""

from __future__ import annotations

from builders import Api, new_phone, order
from memberops.actor import Actor
from memberops.privacy.crypto import save_keyring
from memberops.privacy.keys import add_new_keys, rotate


def test_lookup_and_profile_work_after_keys_rotate_while_serving(api: Api) -> None:
    phone = new_phone()
    assert api.post_orders(order(phone=phone)).status_code == 200
    member_id = api.member_id_for(phone)
    served_ring = api.runtime.keyring

    # What `memberops keys rotate` does, from another process: new keys in the key file,
    # every value re-encrypted and re-indexed. The server's runtime is not told.
    rotated = add_new_keys(served_ring)
    save_keyring(rotated, api.runtime.settings.key_file)
    rotate(api.runtime.sessions, rotated, actor=Actor(kind="cli", id="operator", role="admin"))

    response = api.client.get("/v1/members", params={"query": phone}, headers=api.auth("staff"))
    assert response.status_code == 200, response.text
    assert [m["id"] for m in response.json()["members"]] == [member_id]
    profile = api.client.get(f"/v1/members/{member_id}", headers=api.auth("admin"))
    assert profile.status_code == 200, profile.text
    assert api.runtime.keyring.active_index_id == rotated.active_index_id
