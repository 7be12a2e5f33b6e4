"""Property-based calls over the whole OpenAPI schema (schemathesis) with a key of each scope
and with none: no input gives a 5xx, and a key never gets past its scope."""

import pytest

pytest.importorskip("httpx")
schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402

from service.db import open_database  # noqa: E402
from service.devserver import running_server  # noqa: E402
from service.keys import add_key  # noqa: E402
from service.middleware import required_scope  # noqa: E402

ADMIN = "fuzz-admin-key"
WRITES = {"POST", "PUT", "PATCH", "DELETE"}


@pytest.mark.slow
def test_no_operation_answers_with_a_server_error(tmp_path):
    url = f"sqlite:///{tmp_path / 'm.sqlite'}"
    engine = open_database(url)
    keys = {"admin": ADMIN, **{s: add_key(engine, f"fuzz-{s}", s) for s in ("write", "read")}}
    engine.dispose()
    with running_server(
        tmp_path / "server.log",
        wait="/readyz",
        api_keys=ADMIN,
        database_url=url,
        data_dir=tmp_path / "data",
        rate_limit_per_minute=1_000_000,
        auth_failures_per_minute=1_000_000,
        max_texts=20,
        batch_workers=0,
    ) as base:
        schema = schemathesis.openapi.from_url(f"{base}/openapi.json")
        operations = [result.ok() for result in schema.get_all_operations()]
        assert len(operations) >= 12
        failures = []
        for operation in operations:

            @settings(
                max_examples=15,
                deadline=None,
                database=None,
                derandomize=True,
                suppress_health_check=list(HealthCheck),
            )
            @given(case=operation.as_strategy())
            def call(case):
                for scope, key in (*keys.items(), (None, None)):
                    headers = {"Authorization": f"Bearer {key}"} if key else {}
                    response = case.call(base_url=base, headers=headers, timeout=60)
                    where = f"{case.method} {case.formatted_path} ({scope or 'no'} key)"
                    status = response.status_code
                    if status >= 500:
                        failures.append(f"{where} → {status}: {response.text[:200]}")
                    needed = required_scope(case.method.upper(), case.formatted_path)
                    beyond = case.formatted_path.startswith("/v1/") and (
                        scope is None
                        or ("read", "write", "admin").index(scope)
                        < ("read", "write", "admin").index(needed)
                    )
                    if beyond and status not in (401, 403):
                        failures.append(f"{where} → {status}, beyond its scope")

            call()
        assert not failures, "\n".join(failures[:10])
