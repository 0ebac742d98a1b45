"""The OpenAPI document against the app's URL map, and the docs page served from this server."""
from __future__ import annotations

import re
import urllib.request

from ces.api.openapi import OPERATIONS
from ces.testing import LiveServer, http

IGNORED_METHODS = {"HEAD", "OPTIONS"}


def _served(server: LiveServer) -> set[tuple[str, str]]:
    """(METHOD, OpenAPI path) of every route the app serves under /api/v1."""
    out = set()
    for rule in server.app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/"):
            path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule)
            out |= {(m, path) for m in rule.methods - IGNORED_METHODS}
    return out


def test_every_route_is_in_the_document_and_nothing_else(live_server: LiveServer) -> None:
    status, doc = http("GET", f"{live_server.url}/api/openapi.json")
    assert status == 200 and doc["openapi"].startswith("3.")
    documented = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops}
    served = _served(live_server)
    assert served - documented == set(), "routes missing from the document (add them to api/openapi.py)"
    assert documented - served == set(), "documented operations the app does not serve"
    assert len(served) >= 40
    # The table names no endpoint that does not exist.
    assert set(OPERATIONS) <= {r.endpoint for r in live_server.app.url_map.iter_rules()}


def test_each_operation_says_auth_parameters_bodies_responses_and_the_error_shape(live_server: LiveServer) -> None:
    doc = http("GET", f"{live_server.url}/api/openapi.json")[1]
    schemes = doc["components"]["securitySchemes"]
    assert set(schemes) == {"adminToken", "siteSecretKey"}
    error = doc["components"]["schemas"]["Error"]
    assert error["properties"]["error"]["$ref"].endswith("/ErrorBody")
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            where = f"{method.upper()} {path}"
            assert op["summary"] and op["security"], where
            assert "401" in op["responses"], where
            assert any(code.startswith("2") for code in op["responses"]), where
            names = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
            assert names == set(re.findall(r"{([a-z_]+)}", path)), where
            if method in ("post", "put", "patch") and "requestBody" in op:
                assert {"400", "415"} <= set(op["responses"]), where
            for code, answer in op["responses"].items():
                if code.startswith(("4", "5")):
                    assert answer["$ref"].startswith("#/components/responses/E"), where
    survey = doc["components"]["schemas"]["Survey"]
    assert {"name", "metric"} <= set(survey["required"]) and survey["additionalProperties"] is False
    query = {p["name"] for p in doc["paths"]["/api/v1/surveys"]["get"]["parameters"]}
    assert query == {"site", "limit", "offset", "status"}


def test_the_docs_page_is_served_from_here_with_its_assets(live_server: LiveServer) -> None:
    with urllib.request.urlopen(f"{live_server.url}/api/docs", timeout=10) as resp:
        page = resp.read().decode()
        assert resp.headers["Content-Type"].startswith("text/html")
    # Every script and stylesheet comes from this server: no CDN.
    refs = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert refs and all(ref.startswith("/api/") for ref in refs), refs
    for ref in refs:
        with urllib.request.urlopen(live_server.url + ref, timeout=10) as resp:
            assert resp.status == 200 and len(resp.read()) > 0, ref
    with urllib.request.urlopen(f"{live_server.url}/api/docs/init.js", timeout=10) as resp:
        assert b"/api/openapi.json" in resp.read()
    status, body = http("GET", f"{live_server.url}/api/docs/assets/../../../etc/passwd")
    assert status == 404 and body["error"]["code"] == "not_found"
