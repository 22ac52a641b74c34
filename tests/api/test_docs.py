"""Interactive documentation and the plain reference, both served from the package."""

from __future__ import annotations

import re

from builders import Api


def test_interactive_docs_load_only_this_servers_assets(api: Api) -> None:
    page = api.client.get("/v1/docs")
    assert page.status_code == 200
    csp = page.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp
    assert "http" not in csp and "'unsafe-eval'" not in csp
    # No inline script: every script is a file from /v1/docs/assets.
    scripts = re.findall(r"<script([^>]*)>", page.text)
    assert scripts and all("src='/v1/docs/assets/" in attributes for attributes in scripts)
    assert "http://" not in page.text and "https://" not in page.text
    for url in re.findall(r"(?:src|href)='(/v1/docs/assets/[^']+)'", page.text):
        asset = api.client.get(url)
        assert asset.status_code == 200, url
        assert asset.headers["cache-control"] == "public, max-age=86400"
    start = api.client.get("/v1/docs/assets/docs.js").text
    assert "validatorUrl: null" in start  # never calls the public validator


def test_unknown_asset_is_404_not_a_file_read(api: Api) -> None:
    assert api.client.get("/v1/docs/assets/..%2Fdocs.py").status_code == 404
    assert api.client.get("/v1/docs/assets/missing.js").status_code == 404


def test_plain_reference_lists_operations_without_any_script(api: Api) -> None:
    response = api.client.get("/v1/docs/reference")
    assert response.status_code == 200
    assert "/v1/orders" in response.text
    assert "<script" not in response.text and "https://" not in response.text
    assert "default-src 'none'" in response.headers["content-security-policy"]
