"""Health, the OpenAPI file and the reference page."""

from __future__ import annotations

from builders import Api


def test_health_needs_no_key_and_checks_the_database(api: Api) -> None:
    response = api.client.get("/v1/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_openapi_lists_every_route_with_its_error_responses(api: Api) -> None:
    spec = api.client.get("/v1/openapi.json").json()
    assert spec["info"]["title"] == "memberops"
    paths = spec["paths"]
    for path in (
        "/v1/health",
        "/v1/orders",
        "/v1/members",
        "/v1/members/{member_id}",
        "/v1/members/{member_id}/export",
        "/v1/members/{member_id}/consents",
        "/v1/identity/report",
        "/v1/identity/merges/{merge_id}/undo",
        "/v1/audit/verify",
    ):
        assert path in paths, path
    profile = paths["/v1/members/{member_id}"]["get"]["responses"]
    assert {"401", "403", "404", "422"} <= set(profile)
    assert profile["404"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorBody"
    }
    assert {"401", "403", "409", "422"} <= set(paths["/v1/orders"]["post"]["responses"])
    # The hand-read order body is still described, down to its lines.
    assert {"OrdersRequest", "OrderIn", "LineIn"} <= set(spec["components"]["schemas"])


def test_reference_page_loads_nothing_from_elsewhere(api: Api) -> None:
    response = api.client.get("/v1/docs/reference")
    assert response.status_code == 200
    page = response.text
    assert "/v1/orders" in page
    assert "http://" not in page and "https://" not in page and "<script" not in page
    assert "default-src 'none'" in response.headers["content-security-policy"]


def test_no_swagger_or_redoc_pages(api: Api) -> None:
    assert api.client.get("/docs").status_code == 404
    assert api.client.get("/redoc").status_code == 404
