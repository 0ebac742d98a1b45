"""The API against its own OpenAPI document, with schemathesis, on a live server.

Every operation of /api/openapi.json gets a bounded number of generated requests (valid and
near-valid bodies, query strings and ids); every answer must be a documented status (never a
5xx), of the documented content type, and match the documented schema. The server holds real
data for the ids to reach something: the default site's survey and triggers, an answer, a webhook
with a delivery.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance, not_a_server_error, response_schema_conformance, status_code_conformance,
)

from ces.api import openapi
from ces.app import create_app
from ces.testing import LiveServer, http

from contract_helpers import answer_through_widget

MAX_EXAMPLES = int(os.environ.get("CES_SCHEMATHESIS_EXAMPLES", "30"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
SITE_KEY_PATHS = ("/api/v1/events", "/api/v1/identify")


@pytest.fixture(scope="module")
def contract_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = LiveServer(Path(tmp_path_factory.mktemp("contract")) / "ces.db")
    try:
        # An answer, a comment and a webhook with a delivery, so ids 1 reach real rows.
        http("POST", f"{server.url}/api/v1/webhooks", {"site_id": server.site["id"], "url": "http://127.0.0.1:9/x"},
             token=server.admin_token)
        answer_through_widget(server, server.site, "u1", "checkout_completed", 2, "slow")
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def api_schema(contract_server: LiveServer):  # noqa: ANN201
    return schemathesis.openapi.from_url(f"{contract_server.url}/api/openapi.json")


def _operations() -> list[tuple[str, str]]:
    """(method, path) of every documented operation, from the app's own document."""
    with tempfile.TemporaryDirectory() as tmp:
        doc = openapi.build(create_app({"DATABASE": str(Path(tmp) / "ces.db")}))
    operations = [(method.upper(), path) for path, ops in doc["paths"].items() for method in ops]
    # Deletions last: the others keep reaching the seeded rows.
    return sorted(operations, key=lambda op: op[0] == "DELETE")


def _reach_rows(case: schemathesis.Case) -> None:
    """Generated ids folded onto 0-3: mostly rows that exist (ids 1-3), sometimes none (0)."""
    for key, value in (case.path_parameters or {}).items():
        if isinstance(value, int):
            case.path_parameters[key] = value % 4
        elif key == "user_id" and isinstance(value, str) and len(value) % 2 == 0:
            case.path_parameters[key] = "u1"  # the seeded user: export, opt-out and erase answer 200
    for key in ("site", "site_id", "survey_id"):
        if isinstance((case.query or {}).get(key), int):
            case.query[key] = case.query[key] % 4


# schemathesis' own pytest plugin does not run under pytest 9: each operation is a test here,
# with schemathesis' strategy for it and its checks.
@pytest.mark.parametrize("method,path", _operations())
def test_every_operation_matches_its_document(api_schema, contract_server: LiveServer, method: str,
                                              path: str) -> None:
    operation = api_schema[path][method]
    token = contract_server.site["secret_key"] if path in SITE_KEY_PATHS else contract_server.admin_token

    @given(case=operation.as_strategy())
    @settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=os.environ.get("CES_SCHEMATHESIS_RANDOM") is None, database=None,
              suppress_health_check=list(HealthCheck))
    def check(case: schemathesis.Case) -> None:
        _reach_rows(case)
        response = case.call(base_url=contract_server.url, headers={"Authorization": f"Bearer {token}"})
        case.validate_response(response, checks=CHECKS)

    check()


def test_stateful_runs_follow_the_documented_links(api_schema, contract_server: LiveServer) -> None:
    """Sequences along the document's links (create a survey, then read, change, pause, report,
    delete it…), each answer checked like above."""
    from hypothesis.stateful import run_state_machine_as_test

    class Machine(api_schema.as_state_machine()):  # type: ignore[misc]
        def before_call(self, case: schemathesis.Case) -> None:
            token = (contract_server.site["secret_key"] if case.operation.path in SITE_KEY_PATHS
                     else contract_server.admin_token)
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}

        def get_call_kwargs(self, case: schemathesis.Case) -> dict:
            return {"base_url": contract_server.url}

        def validate_response(self, response, case, additional_checks=None, **kwargs) -> None:  # noqa: ANN001
            case.validate_response(response, checks=CHECKS)

    run_state_machine_as_test(Machine, settings=settings(
        max_examples=max(5, MAX_EXAMPLES // 2), stateful_step_count=6, deadline=None, database=None,
        derandomize=os.environ.get("CES_SCHEMATHESIS_RANDOM") is None, suppress_health_check=list(HealthCheck)))
