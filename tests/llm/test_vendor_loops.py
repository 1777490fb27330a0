"""Each vendor's real SDK against its fake API, driving the shared tool loop over lab tools.

Every test runs for anthropic, openai and gemini. The fake rejects any request that
carries the lab password, and rejects conversations the real API would reject.
"""

from __future__ import annotations

from dataclasses import replace

import psycopg

from helpdesk.dsn import replace as replace_password
from helpdesk.llm.loop import LAST_STEP
from helpdesk.llm.submission import SUBMIT_TOOL
from helpdesk.taxonomy import NAMES
from tests.fakes.llm_server import Reply
from tests.fakes.vendor import Call
from tests.llm.conftest import FAST, make_loop

HEALTHY = {
    "category": "healthy",
    "contributing": [],
    "summary": "The server accepts connections and its settings look normal.",
    "confidence": 0.8,
    "evidence": ["check_connection succeeded"],
    "recommended_actions": ["No action needed."],
}


def message(target) -> str:
    return f"Users say queries on {target.dsn} feel slow today. Can you check it?"


def test_full_diagnosis_loop(fake, serve, target, registry):
    with psycopg.connect(target.dsn) as conn:
        max_connections = conn.execute("SHOW max_connections").fetchone()[0]
    script = [
        fake.tool_turn(
            Call("check_connection", {"connection_string": target.masked}),
            text="Checking connectivity first.",
        ),
        fake.tool_turn(
            Call("get_setting", {"connection_string": target.masked, "name": "max_connections"})
        ),
        fake.tool_turn(
            Call(SUBMIT_TOOL, {**HEALTHY, "evidence": [f"max_connections = {max_connections}"]}),
            text="The server is up and healthy.",
        ),
    ]
    with serve(script) as server:
        result = make_loop(fake, server).run(message(target), registry)

    assert result.status == "diagnosed"
    assert result.diagnosis is not None and result.diagnosis.category == "healthy"
    assert result.diagnosis.evidence == [f"max_connections = {max_connections}"]
    assert result.text.startswith("The server is up and healthy.")
    assert f"max_connections = {max_connections}" in result.text
    assert [c.tool for c in result.tool_calls] == ["check_connection", "get_setting"]
    assert all(c.ok and c.agent == "postgres_database_agent" for c in result.tool_calls)
    assert all("password=****" in c.args["connection_string"] for c in result.tool_calls)
    assert result.model.vendor == fake.vendor and result.model.name == fake.model
    calls, (tokens_in, tokens_out) = 3, fake.usage_per_turn
    assert result.usage.llm_calls == calls
    assert result.usage.input_tokens == calls * tokens_in
    assert result.usage.output_tokens == calls * tokens_out

    first, second, third = (r.json for r in server.model_requests)
    assert "password=****" in server.model_requests[0].raw
    offered = fake.offered_tools(first)
    assert offered == ["check_connection", "get_setting", SUBMIT_TOOL]
    # the real tool ran with the real password: it connected and read the lab's values
    (connected,) = fake.tool_results(second)
    assert (
        not connected.is_error and "connected: database=testdb user=postgres" in connected.content
    )
    (setting,) = fake.tool_results(third)
    assert setting.content == f"max_connections = {max_connections}"


def test_submit_schema_offers_the_taxonomy(fake, serve, target, registry):
    script = [
        fake.tool_turn(Call("check_connection", {"connection_string": target.masked})),
        fake.tool_turn(Call(SUBMIT_TOOL, HEALTHY)),
    ]
    with serve(script) as server:
        make_loop(fake, server).run(message(target), registry)
    raw = server.model_requests[0].raw
    for name in ("connection_exhaustion", "table_bloat", "compound_no_endpoints", "healthy"):
        assert f'"{name}"' in raw
    assert len(NAMES) == 34


def test_parallel_tool_calls(fake, serve, target, registry):
    script = [
        fake.tool_turn(
            Call("check_connection", {"connection_string": target.masked}),
            Call(
                "get_setting",
                {"connection_string": target.masked_replica, "name": "primary_conninfo"},
            ),
            Call("get_setting", {"connection_string": target.masked, "name": "wal_level"}),
        ),
        fake.tool_turn(Call(SUBMIT_TOOL, {**HEALTHY, "evidence": ["wal_level = replica"]})),
    ]
    with serve(script) as server:
        result = make_loop(fake, server).run(
            message(target) + f" The standby is {target.replica_dsn}.", registry
        )

    assert result.status == "diagnosed"
    assert [(c.tool, c.ok) for c in result.tool_calls] == [
        ("check_connection", True),
        ("get_setting", True),
        ("get_setting", True),
    ]
    results = fake.tool_results(server.model_requests[1].json)
    assert [r.name for r in results] == ["check_connection", "get_setting", "get_setting"]
    assert results[0].content.startswith("connected:")
    # the standby's primary_conninfo holds the password in clear text: the model sees ****
    assert (
        results[1].content.startswith("primary_conninfo = ")
        and "password=****" in results[1].content
    )
    assert results[2].content == "wal_level = replica"


def test_malformed_arguments_are_reported_and_the_model_recovers(fake, serve, target, registry):
    script = [
        fake.tool_turn(fake.malformed_call("check_connection")),
        fake.tool_turn(Call("check_connection", {"connection_string": target.masked})),
        fake.tool_turn(Call(SUBMIT_TOOL, HEALTHY)),
    ]
    with serve(script) as server:
        result = make_loop(fake, server).run(message(target), registry)

    assert result.status == "diagnosed" and result.diagnosis.category == "healthy"
    (error,) = fake.tool_results(server.model_requests[1].json)
    assert error.is_error and "check_connection" in error.content
    assert [(c.tool, c.ok) for c in result.tool_calls] == [
        ("check_connection", False),
        ("check_connection", True),
    ]
    (ok,) = fake.tool_results(server.model_requests[2].json)
    assert not ok.is_error and ok.content.startswith("connected:")


def test_invalid_submission_is_returned_to_the_model(fake, serve, target, registry):
    script = [
        fake.tool_turn(Call("check_connection", {"connection_string": target.masked})),
        fake.tool_turn(Call(SUBMIT_TOOL, {**HEALTHY, "category": "disk_full", "confidence": 3})),
        fake.tool_turn(Call(SUBMIT_TOOL, HEALTHY)),
    ]
    with serve(script) as server:
        result = make_loop(fake, server).run(message(target), registry)

    assert result.status == "diagnosed" and result.diagnosis.category == "healthy"
    (rejected,) = fake.tool_results(server.model_requests[2].json)
    assert rejected.is_error and "disk_full" in rejected.content
    assert result.usage.llm_calls == 3


def test_rate_limit_and_overload_are_retried(fake, serve, target, registry):
    overloaded = 529 if fake.vendor == "anthropic" else 503
    script = [
        fake.error(429, retry_after="0"),
        fake.tool_turn(Call("check_connection", {"connection_string": target.masked})),
        fake.error(overloaded),
        fake.tool_turn(Call(SUBMIT_TOOL, HEALTHY)),
    ]
    with serve(script) as server:
        result = make_loop(fake, server).run(message(target), registry)

    assert result.status == "diagnosed"
    assert len(server.model_requests) == 4
    assert result.usage.llm_calls == 2  # failed attempts bring no tokens


def test_per_call_timeout_is_retried(fake, serve, target, registry):
    slow = fake.tool_turn(Call("check_connection", {"connection_string": target.masked}))
    slow.delay = 3.0
    script = [
        slow,
        fake.tool_turn(Call("check_connection", {"connection_string": target.masked})),
        fake.tool_turn(Call(SUBMIT_TOOL, HEALTHY)),
    ]
    with serve(script) as server:
        result = make_loop(fake, server, replace(FAST, call_timeout=1.0)).run(
            message(target), registry
        )

    assert result.status == "diagnosed"
    assert len(server.model_requests) == 3
    assert len(result.tool_calls) == 1  # the timed-out turn was never used


def test_permanent_error_is_not_retried(fake, serve, target, registry):
    with serve([fake.error(401)]) as server:
        result = make_loop(fake, server).run(message(target), registry)

    assert result.status == "model_error" and result.diagnosis is None
    assert "401" in result.error
    assert len(server.model_requests) == 1


def test_a_model_that_never_submits_stops_at_the_step_cap(fake, serve, target, registry):
    steps = 3
    check = Call("check_connection", {"connection_string": target.masked})
    script = [fake.tool_turn(check, text="Let me look again.") for _ in range(steps)]
    with serve(script) as server:
        result = make_loop(fake, server, replace(FAST, max_steps=steps)).run(
            message(target), registry
        )

    assert result.diagnosis is None
    assert result.status == "step_cap"
    assert f"within {steps} steps" in result.text and SUBMIT_TOOL in result.text
    assert len(result.tool_calls) == steps and result.usage.llm_calls == steps
    assert LAST_STEP in server.model_requests[-1].raw


def test_wrong_password_reaches_the_tool_and_the_model_sees_only_the_error(
    fake, serve, target, registry
):
    wrong = "Wr0ng-Passw0rd"
    bad_dsn = replace_password(target.dsn, password=wrong)
    bad_masked = target.masked  # same endpoint, so the model sees the same masked DSN
    script = [
        fake.tool_turn(Call("check_connection", {"connection_string": bad_masked})),
        fake.tool_turn(
            Call(
                SUBMIT_TOOL,
                {
                    **HEALTHY,
                    "category": "authentication_failure",
                    "evidence": ['password authentication failed for user "postgres"'],
                },
            )
        ),
    ]
    with serve(script, also_forbidden=(wrong,)) as server:
        result = make_loop(fake, server).run(f"The app cannot log in with {bad_dsn}", registry)

    (seen,) = fake.tool_results(server.model_requests[1].json)
    assert seen.is_error and "password authentication failed" in seen.content
    assert result.diagnosis.category == "authentication_failure"
    assert [(c.tool, c.ok) for c in result.tool_calls] == [("check_connection", False)]
    assert wrong not in result.model_dump_json() and target.password not in result.model_dump_json()


def test_a_garbled_response_is_a_flagged_result_not_an_exception(fake, serve, target, registry):
    garbled = [Reply({"unexpected": True}) for _ in range(FAST.retry.max_attempts)]
    with serve(garbled) as server:
        result = make_loop(fake, server).run(message(target), registry)
    assert result.status == "model_error" and result.diagnosis is None
    assert result.error and "No diagnosis" in result.text
    assert 1 <= len(server.model_requests) <= FAST.retry.max_attempts
