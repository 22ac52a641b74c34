"""Property-based run of the whole API from its own OpenAPI document (in-process), on
SQLite and on PostgreSQL: no 5xx, no answer outside the schema, no undocumented status."""

from __future__ import annotations

import hypothesis
import pytest
import schemathesis

from memberops.api.app import create_app
from memberops.apikeys.service import create_api_key
from memberops.db import transaction
from memberops.runtime import Runtime


@pytest.fixture(scope="module")
def fuzz_schema(api_runtime: Runtime) -> object:
    """The document of an app over the shared API database: a SQLite file, or a
    PostgreSQL schema when MEMBEROPS_TEST_DATABASE_URL is set."""
    with transaction(api_runtime.sessions) as session:
        _, secret = create_api_key(session, name="fuzz", role="admin")
    app = create_app(api_runtime, rate_limits=None)
    schema = schemathesis.openapi.from_asgi("/v1/openapi.json", app)
    schema.config.headers = {"Authorization": f"Bearer {secret}"}
    # Rules beyond the document (an admin recording consent gives a reason, a store code
    # is not blank) answer 422 to schema-valid data by design: accepted as expected.
    acceptance = schema.config.checks.positive_data_acceptance
    acceptance.expected_statuses = [*acceptance.expected_statuses, "422"]
    return schema


def test_api_conforms_to_its_document(fuzz_schema: object) -> None:
    """Every operation, 40 generated requests each, all checks: bounded to well under two
    minutes, and failures of every operation are reported together."""
    failures: list[str] = []
    operations = [result.ok() for result in fuzz_schema.get_all_operations()]  # type: ignore[attr-defined]
    assert operations
    for operation in operations:

        @hypothesis.given(case=operation.as_strategy())
        @hypothesis.settings(
            max_examples=40,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(hypothesis.HealthCheck),
        )
        def run(case: schemathesis.Case) -> None:
            case.call_and_validate()

        try:
            run()
        except (Exception, BaseExceptionGroup) as error:  # report every operation's failure
            failures.append(f"{operation.method.upper()} {operation.path}: {error}")
    assert not failures, "\n\n".join(failures)
