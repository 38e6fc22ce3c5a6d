"""The template renderer process: renders run.cmd in the Jinja2 sandbox under resource limits.

Started by `templates.Renderer` as `python -I render_server.py LIMITS_JSON`, it imports nothing of
the dashboard (only the standard library and Jinja2), caps its own address space
(RLIMIT_AS) and, before each request, its CPU time (RLIMIT_CPU: the kernel ends it with SIGXCPU),
then answers one JSON line per request read from stdin:

    (once, when it is ready) "ready"
    {"items": [[path, source], ...], "params": {...}}
    -> {"ok": [output, ...]} | {"error": {"path": ..., "limit": ..., "message": ...}}

Output is streamed and counted, so a template that prints too much stops at the cap. A request
that runs out of memory is answered, then the process exits: its parent starts a fresh one.
"""

import functools
import json
import math
import operator
import resource
import sys

from jinja2 import StrictUndefined, TemplateSyntaxError, UndefinedError
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment

MAX_REPEAT = 100_000
MAX_EXPONENT = 1_000
MAX_POWER_BITS = 10_000
CACHE_SIZE = 256


class _Environment(SandboxedEnvironment):
    """The Jinja2 sandbox, also refusing `'x' * 10**9`-style bombs before they allocate."""

    intercepted_binops = frozenset(["*", "**"])

    def call_binop(self, context, operator_name, left, right):
        """Evaluate `*` and `**` with size limits; other operators as usual."""
        if operator_name == "**":
            if isinstance(right, (int, float)) and abs(right) > MAX_EXPONENT:
                raise SecurityError(f"the exponent {right} is too large")
            big = isinstance(left, int) and isinstance(right, int) and right > 0
            if big and left.bit_length() * right > MAX_POWER_BITS:
                raise SecurityError("the power would be too large")
            return operator.pow(left, right)
        if isinstance(left, (str, list, tuple)) or isinstance(right, (str, list, tuple)):
            count = right if isinstance(left, (str, list, tuple)) else left
            size = len(left) if isinstance(left, (str, list, tuple)) else len(right)
            if isinstance(count, int) and count * max(size, 1) > MAX_REPEAT:
                raise SecurityError("the repeated string or list would be too long")
        return operator.mul(left, right)


class OutputTooLong(Exception):
    """The rendered command passed the output cap."""


_ENV = _Environment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)


@functools.lru_cache(maxsize=CACHE_SIZE)
def _compile(source):
    return _ENV.from_string(source)


def render(source, params, max_output):
    """Render `source` with `params`, streaming, refusing output longer than `max_output`."""
    parts, size = [], 0
    for part in _compile(source).generate(params):
        size += len(part)
        if size > max_output:
            raise OutputTooLong
        parts.append(part)
    return "".join(parts)


def describe(err, limits):
    """(limit, message) for a failed render: limit names the breached limit, or is None."""
    if isinstance(err, TemplateSyntaxError):
        return None, f"template syntax error at line {err.lineno}: {err.message}"
    if isinstance(err, UndefinedError):
        return None, f"unknown variable: {err.message}"
    if isinstance(err, SecurityError):
        return None, f"the template sandbox refused an expression: {err}"
    if isinstance(err, OutputTooLong):
        return "output", (
            f"the rendered command is longer than the limit of {limits['max_output']:,} characters"
        )
    if isinstance(err, MemoryError):
        return "memory", (
            f"the template needs more than the renderer's memory limit of "
            f"{limits['memory'] // 2**20} MiB"
        )
    if isinstance(err, RecursionError):
        return "depth", "the template recursed too deeply"
    return None, f"the template failed: {type(err).__name__}: {err}"


def answer(request, limits):
    """The reply to one request (see the module docstring)."""
    outputs = []
    for path, source in request["items"]:
        try:
            outputs.append(render(source, request["params"], limits["max_output"]))
        except Exception as err:  # MemoryError, RecursionError and Jinja's errors alike
            outputs.clear()
            limit, message = describe(err, limits)
            return {"error": {"path": path, "limit": limit, "message": message}}
    return {"ok": outputs}


def _limit_cpu(seconds):
    """Let this request use `seconds` more CPU time (RLIMIT_CPU counts the process's life)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    used = math.ceil(usage.ru_utime + usage.ru_stime)
    resource.setrlimit(resource.RLIMIT_CPU, (used + seconds, resource.RLIM_INFINITY))


def serve(limits, stdin=sys.stdin, stdout=sys.stdout):
    """Answer requests until stdin closes or a request runs out of memory."""
    resource.setrlimit(resource.RLIMIT_AS, (limits["memory"], limits["memory"]))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    stdout.write("ready\n")  # the caller's clock starts now, not while Python starts
    stdout.flush()
    for line in stdin:
        _limit_cpu(limits["cpu"])
        try:
            reply = answer(json.loads(line), limits)
        except MemoryError:  # the request itself (its params) did not fit
            reply = {
                "error": {
                    "path": "run.cmd",
                    "limit": "memory",
                    "message": describe(MemoryError(), limits)[1],
                }
            }
        stdout.write(json.dumps(reply) + "\n")
        stdout.flush()
        if reply.get("error", {}).get("limit") == "memory":
            return  # what the failed allocation left behind goes with the process


if __name__ == "__main__":
    serve(json.loads(sys.argv[1]))
