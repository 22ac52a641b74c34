"""HTTP hygiene: security headers on every answer, the bearer scheme and the common
error answers in the OpenAPI document, no server banner."""

from __future__ import annotations

from builders import Api


def test_every_answer_has_nosniff_and_personal_data_is_never_cached(api: Api) -> None:
    response = api.client.get(
        "/v1/members", params={"query": "13900000000"}, headers=api.auth("staff")
    )
    assert response.status_code == 200
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-store"
    assert "server" not in response.headers
    refused = api.client.get("/v1/members", params={"query": "1"})
    assert refused.status_code == 401
    assert refused.headers["x-content-type-options"] == "nosniff"
    assert refused.headers["cache-control"] == "no-store"


def test_html_has_a_strict_csp(api: Api) -> None:
    for url in ("/v1/docs", "/v1/docs/reference"):
        page = api.client.get(url)
        assert page.status_code == 200
        csp = page.headers["content-security-policy"]
        assert "default-src 'none'" in csp
        assert "http" not in csp  # nothing loaded from elsewhere


def test_openapi_declares_bearer_keys_and_the_common_answers_everywhere(api: Api) -> None:
    spec = api.client.get("/v1/openapi.json").json()
    scheme = spec["components"]["securitySchemes"]["bearerKey"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for status in ("400", "413", "429", "503"):
                assert status in operation["responses"], (method, path, status)
            if not path.endswith("/health"):
                assert operation["security"] == [{"bearerKey": []}], (method, path)


def test_label_categories_are_enumerated_in_the_schema(api: Api) -> None:
    spec = api.client.get("/v1/openapi.json").json()
    category = spec["components"]["schemas"]["LabelCreate"]["properties"]["category"]
    assert "service_need" in category["enum"] and "dining_preference" in category["enum"]


def test_405_allow_lists_every_documented_method_of_the_path(api: Api) -> None:
    spec = api.client.get("/v1/openapi.json").json()
    for template, operations in spec["paths"].items():
        path = template.replace("{member_id}", "0" * 26).replace("{label_id}", "0" * 26)
        path = path.replace("{merge_id}", "0" * 26).replace("{key_id}", "0" * 26)
        documented = sorted(m.upper() for m in operations)
        for method in ("OPTIONS", "PATCH"):
            if method in documented:
                continue
            response = api.client.request(method, path)
            assert response.status_code == 405, (method, path)
            assert sorted(response.headers["allow"].split(", ")) == documented, (method, path)
