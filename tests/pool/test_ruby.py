"""Ruby functions on the process executor: Tarn's own bootstrap (runtimes/ruby/bootstrap.rb)
with this machine's `ruby`, whatever ruby3.x the function names."""

from __future__ import annotations

import shutil

import pytest

from tests.pool.conftest import running_pool
from tests.pool.runtime_checks import (
    body,
    check_init_error,
    check_invocations,
    check_timeout,
    log_tail,
)

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.skipif(shutil.which("ruby") is None, reason="ruby is not installed"),
]

FUNCTION = """\
raise "init failed" if ENV["TARN_TEST_INIT_FAIL"]

def handler(event:, context:)
  case event.is_a?(Hash) && event["action"]
  when "context"
    { function_name: context.function_name, request_id: context.aws_request_id,
      arn: context.invoked_function_arn, remaining_ms: context.get_remaining_time_in_millis,
      memory: context.memory_limit_in_mb }
  when "environ" then ENV.to_h
  when "raise" then raise ArgumentError, "bad input"
  when "sleep" then sleep(event["seconds"])
  else event
  end
end
"""
CLASS_HANDLER = """\
module Greeter
  class Handler
    def self.process(event:, context:)
      puts "greeting #{event['name']}"
      { "greeting" => "hello #{event['name']}", "version" => RUBY_VERSION }
    end
  end
end
"""


async def test_ruby_function_echoes_gives_context_and_errors_as_aws(redis, tmp_path):
    async with running_pool(redis, tmp_path) as pool:
        function = await pool.deploy(
            {"function.rb": FUNCTION},
            runtime="ruby3.3",
            handler="function.handler",
            environment={"GREETING": "hi"},
        )
        await check_invocations(pool, function)
        failed = await pool.invoke(function, {"action": "raise"})
    error = body(failed)
    assert error["errorType"] == "Function<ArgumentError>"
    assert any("function.rb" in line for line in error["stackTrace"])
    assert "ERROR" in log_tail(failed) and "Function<ArgumentError>" in log_tail(failed)


async def test_ruby_class_method_handler(redis, tmp_path):
    async with running_pool(redis, tmp_path) as pool:
        function = await pool.deploy(
            {"lib/greeter.rb": CLASS_HANDLER},
            runtime="ruby3.2",
            handler="lib/greeter.Greeter::Handler.process",
        )
        reply = await pool.invoke(function, {"name": "ada"})
    assert body(reply)["greeting"] == "hello ada"
    assert "greeting ada" in log_tail(reply)
    if not body(reply)["version"].startswith("3.2."):  # labelled honestly
        assert f"ruby3.2 runs on this machine's Ruby {body(reply)['version']}" in log_tail(reply)


async def test_ruby_init_errors_and_timeout(redis, tmp_path):
    async with running_pool(redis, tmp_path) as pool:
        broken = await pool.deploy(
            {"function.rb": FUNCTION},
            runtime="ruby3.3",
            handler="function.handler",
            environment={"TARN_TEST_INIT_FAIL": "1"},
        )
        error = await check_init_error(pool, broken)
        missing = await pool.deploy(
            {"function.rb": FUNCTION}, runtime="ruby3.3", handler="nope.handler"
        )
        not_found = body(await pool.invoke(missing))
        slow = await pool.deploy(
            {"function.rb": FUNCTION}, runtime="ruby3.3", handler="function.handler", timeout_s=1
        )
        await check_timeout(pool, slow)
    assert error["errorType"] == "Init<RuntimeError>"
    assert not_found["errorType"] == "Init<LoadError>"
