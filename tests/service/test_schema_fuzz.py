"""Property-based calls over the whole OpenAPI schema (schemathesis): no input gives a 5xx."""

import pytest

pytest.importorskip("httpx")
schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402

from service.devserver import running_server  # noqa: E402

KEY = "fuzz-key"


@pytest.mark.slow
def test_no_operation_answers_with_a_server_error(tmp_path):
    with running_server(
        tmp_path / "server.log",
        wait="/readyz",
        api_keys=KEY,
        database_url=f"sqlite:///{tmp_path / 'm.sqlite'}",
        data_dir=tmp_path / "data",
        rate_limit_per_minute=1_000_000,
        max_texts=20,
        batch_workers=0,
    ) as base:
        schema = schemathesis.openapi.from_url(f"{base}/openapi.json")
        operations = [result.ok() for result in schema.get_all_operations()]
        assert len(operations) >= 9
        failures = []
        for operation in operations:

            @settings(
                max_examples=40,
                deadline=None,
                database=None,
                derandomize=True,
                suppress_health_check=list(HealthCheck),
            )
            @given(case=operation.as_strategy())
            def call(case):
                for headers in ({"Authorization": f"Bearer {KEY}"}, {}):
                    response = case.call(base_url=base, headers=headers, timeout=60)
                    if response.status_code >= 500:
                        failures.append(
                            f"{case.method} {case.formatted_path} → {response.status_code}: "
                            f"{response.text[:200]}"
                        )

            call()
        assert not failures, "\n".join(failures[:10])
