"""Rendering run.cmd with a sandboxed Jinja2 environment where unknown names are errors."""

import functools
import operator

from jinja2 import StrictUndefined, TemplateSyntaxError, UndefinedError
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment

from .errors import SpecError

MAX_REPEAT = 100_000
MAX_EXPONENT = 1_000
MAX_POWER_BITS = 10_000


class _Environment(SandboxedEnvironment):
    """The Jinja2 sandbox, also refusing `'x' * 10**9`-style memory bombs."""

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


_ENV = _Environment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)


@functools.lru_cache(maxsize=256)
def _compile(source):
    return _ENV.from_string(source)


def render_command(spec, params):
    """Render every string of the spec's run.cmd with `params`; SpecError names what failed."""
    return render_cmd(spec.run_cmd, params)


def render_cmd(cmd, params):
    """Render run.cmd (a string or a list of strings) with `params`."""
    if isinstance(cmd, list):
        return [_render(item, params, f"run.cmd[{i}]") for i, item in enumerate(cmd)]
    return _render(cmd, params, "run.cmd")


def _render(source, params, path):
    try:
        return _compile(source).render(params)
    except TemplateSyntaxError as err:
        raise SpecError.at(
            path, f"template syntax error at line {err.lineno}: {err.message}"
        ) from None
    except UndefinedError as err:
        raise SpecError.at(path, f"unknown variable: {err.message}") from None
    except SecurityError as err:
        raise SpecError.at(path, f"the template sandbox refused an expression: {err}") from None
    except (ArithmeticError, TypeError, ValueError, LookupError) as err:
        raise SpecError.at(path, f"the template failed: {type(err).__name__}: {err}") from None
