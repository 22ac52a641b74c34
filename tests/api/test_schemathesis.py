"""Property-based run of the whole API from its own OpenAPI document (in-process):
no 5xx, no answer outside the schema, no undocumented status."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import hypothesis
import pytest
import schemathesis

from memberops.api.app import create_app
from memberops.apikeys.service import create_api_key
from memberops.config import Settings
from memberops.db import transaction
from memberops.runtime import Runtime, open_runtime


@pytest.fixture(scope="module")
def fuzz_runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    home: Path = tmp_path_factory.mktemp("fuzz")
    runtime = open_runtime(
        Settings(home=home, database_url=f"sqlite:///{home / 'fuzz.db'}", keys_json=None)
    )
    yield runtime
    runtime.close()


@pytest.fixture(scope="module")
def fuzz_schema(fuzz_runtime: Runtime) -> object:
    with transaction(fuzz_runtime.sessions) as session:
        _, secret = create_api_key(session, name="fuzz", role="admin")
    app = create_app(fuzz_runtime, rate_limits=None)
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
