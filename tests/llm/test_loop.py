"""Loop mechanics that do not depend on the vendor, through the OpenAI SDK and its fake API:
prose-only turns, investigating before submitting, tool failures, truncation, deadlines.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

import pytest

from helpdesk.agents.base import Tool, ToolError, ToolOutput, ToolRegistry
from helpdesk.llm.loop import NUDGE
from helpdesk.llm.submission import SUBMIT_TOOL
from tests.fakes.llm_server import Reply, ScriptedLLMServer
from tests.fakes.openai_api import OpenAIFake
from tests.fakes.vendor import Call
from tests.llm.conftest import FAST, make_loop

SECRET = "Zx9-very-secret"
DSN = f"host=db.internal port=6432 dbname=orders user=ops password={SECRET}"
MASKED = "host=db.internal port=6432 dbname=orders user=ops password=****"
DIAGNOSIS = {
    "category": "table_bloat",
    "summary": "orders_archive has far more dead than live tuples.",
    "confidence": 0.9,
    "evidence": ["orders_archive: 90000 dead / 10000 live tuples"],
    "recommended_actions": ["VACUUM (ANALYZE) orders_archive"],
}

fake = OpenAIFake()


def _stats(connection_string: str) -> ToolOutput:
    if f"password={SECRET}" not in connection_string:
        raise ToolError('password authentication failed for user "ops"')
    return ToolOutput(
        text=f"orders_archive: 90000 dead / 10000 live tuples (seen via {connection_string})"
    )


def _huge(connection_string: str) -> ToolOutput:
    return ToolOutput(text="row\n" * 5000)


def _crash(connection_string: str) -> ToolOutput:
    raise RuntimeError(f"bug while using {connection_string}")


def registry() -> ToolRegistry:
    reg = ToolRegistry(agent="postgres_database_agent")
    schema = {
        "type": "object",
        "properties": {"connection_string": {"type": "string"}},
        "required": ["connection_string"],
    }
    for name, func in (("get_table_stats", _stats), ("dump_rows", _huge), ("buggy_tool", _crash)):
        reg.add(Tool(name, f"{name} tool", schema, func))
    return reg


@contextmanager
def serve(replies: list[Reply]) -> Iterator[ScriptedLLMServer]:
    server = ScriptedLLMServer(
        replies, validator=fake.validate, forbidden=(SECRET,), error_body=fake.error_body
    )
    with server:
        yield server
    assert server.violations == [] and server.problems == []


def stats_call() -> Call:
    return Call("get_table_stats", {"connection_string": MASKED})


def test_tool_output_echoing_the_real_dsn_is_masked_and_evidence_kept():
    with serve(
        [fake.tool_turn(stats_call()), fake.tool_turn(Call(SUBMIT_TOOL, DIAGNOSIS))]
    ) as server:
        result = make_loop(fake, server).run(f"Queries on {DSN} got slow", registry())
    (seen,) = fake.tool_results(server.model_requests[1].json)
    assert seen.content == f"orders_archive: 90000 dead / 10000 live tuples (seen via {MASKED})"
    assert result.diagnosis.category == "table_bloat"
    assert "orders_archive: 90000 dead / 10000 live tuples" in result.text
    assert SECRET not in result.model_dump_json()


def test_prose_only_turn_is_nudged_towards_the_tools():
    script = [
        fake.text_turn("It is probably bloat."),
        fake.tool_turn(stats_call()),
        fake.tool_turn(Call(SUBMIT_TOOL, DIAGNOSIS)),
    ]
    with serve(script) as server:
        result = make_loop(fake, server).run(f"Slow on {DSN}", registry())
    assert result.status == "diagnosed"
    assert server.model_requests[1].json["messages"][-1] == {"role": "user", "content": NUDGE}


def test_submitting_before_investigating_is_refused():
    script = [
        fake.tool_turn(Call(SUBMIT_TOOL, DIAGNOSIS)),
        fake.tool_turn(stats_call()),
        fake.tool_turn(Call(SUBMIT_TOOL, DIAGNOSIS)),
    ]
    with serve(script) as server:
        result = make_loop(fake, server).run(f"Slow on {DSN}", registry())
    (refused,) = fake.tool_results(server.model_requests[1].json)
    assert "investigate first" in refused.content
    assert result.status == "diagnosed" and [c.tool for c in result.tool_calls] == [
        "get_table_stats"
    ]


def test_unknown_tool_and_crashing_tool_become_errors_for_the_model():
    script = [
        fake.tool_turn(
            Call("drop_database", {"connection_string": MASKED}),
            Call("buggy_tool", {"connection_string": MASKED}),
        ),
        fake.tool_turn(stats_call()),
        fake.tool_turn(Call(SUBMIT_TOOL, DIAGNOSIS)),
    ]
    with serve(script) as server:
        result = make_loop(fake, server).run(f"Slow on {DSN}", registry())
    unknown, crashed = fake.tool_results(server.model_requests[1].json)
    assert "unknown tool 'drop_database'" in unknown.content
    assert (
        crashed.content.startswith("error: buggy_tool failed: RuntimeError")
        and "password=****" in crashed.content
    )
    assert [(c.tool, c.ok) for c in result.tool_calls] == [
        ("drop_database", False),
        ("buggy_tool", False),
        ("get_table_stats", True),
    ]
    assert SECRET not in result.model_dump_json()


def test_tool_output_is_truncated_to_the_budget():
    script = [
        fake.tool_turn(Call("dump_rows", {"connection_string": MASKED})),
        fake.tool_turn(Call(SUBMIT_TOOL, DIAGNOSIS)),
    ]
    with serve(script) as server:
        make_loop(fake, server, replace(FAST, tool_output_chars=1000)).run(
            f"Slow on {DSN}", registry()
        )
    (seen,) = fake.tool_results(server.model_requests[1].json)
    assert seen.content.startswith("row\nrow") and seen.content.endswith(
        "[... truncated 19000 characters]"
    )
    assert len(seen.content) < 1100


def test_overall_timeout_ends_with_a_flagged_result():
    slow = [replace(fake.tool_turn(stats_call()), delay=2.0) for _ in range(3)]
    settings = replace(FAST, call_timeout=1.0, overall_timeout=1.5)
    with serve(slow) as server:
        result = make_loop(fake, server, settings).run(f"Slow on {DSN}", registry())
    assert result.status == "timeout" and result.diagnosis is None
    assert "ran out of time" in result.text


def test_retries_are_bounded():
    with serve([fake.error(503) for _ in range(3)]) as server:
        result = make_loop(fake, server).run(f"Slow on {DSN}", registry())
    assert result.status == "model_error" and "503" in result.error
    assert len(server.model_requests) == FAST.retry.max_attempts


@pytest.mark.parametrize("retry_after", ["0.3"])
def test_retry_after_is_respected(retry_after):
    import time

    script = [
        fake.error(429, retry_after=retry_after),
        fake.tool_turn(stats_call()),
        fake.tool_turn(Call(SUBMIT_TOOL, DIAGNOSIS)),
    ]
    started = time.monotonic()
    with serve(script) as server:
        result = make_loop(fake, server).run(f"Slow on {DSN}", registry())
    assert result.status == "diagnosed"
    assert time.monotonic() - started >= float(retry_after)
