"""The search process: works out the next iteration of hyperband and bo groups, under limits.

Started by the scheduler (`dashboard/runner/searches.py`) as `python -I search_server.py
LIMITS_JSON`, it loads this package alone (pure: no Flask, no database), caps its own address
space (RLIMIT_AS) and, before each request, its CPU time (RLIMIT_CPU: the kernel ends it with
SIGXCPU should its parent be gone), then answers one JSON line per request read from stdin:

    (once, when it is ready) "ready"
    {"content": ..., "last": ..., "results": [...]}      (see iterations.work_out)
    -> {"ok": ...} | {"error": {"limit": null | "memory", "message": ...}}

A request that runs out of memory is answered, then the process exits: its parent starts a
fresh one for the next request.
"""

import importlib
import importlib.util
import json
import math
import resource
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def load_package():
    """This package under the name `hptuning`, without the dashboard (and Flask) around it."""
    spec = importlib.util.spec_from_file_location(
        "hptuning", HERE / "__init__.py", submodule_search_locations=[str(HERE)]
    )
    package = importlib.util.module_from_spec(spec)
    sys.modules["hptuning"] = package
    spec.loader.exec_module(package)
    return package


def memory_message(limits):
    return (
        f"working out the next iteration needed more than the search process's memory "
        f"limit of {limits['memory'] // 2**20} MiB"
    )


def answer(line, limits, work_out):
    """The reply to one request line: the search's answer, or the reason it could not go on."""
    try:
        return work_out(json.loads(line))
    except MemoryError:
        return {"error": {"limit": "memory", "message": memory_message(limits)}}
    except RecursionError:
        return {"error": {"limit": None, "message": "the search recursed too deeply"}}
    except Exception as err:  # SearchError, SpecError and whatever numpy or sklearn raise
        return {"error": {"limit": None, "message": str(err) or type(err).__name__}}


def _limit_cpu(seconds):
    """Let this request use `seconds` more CPU time (RLIMIT_CPU counts the process's life)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    used = math.ceil(usage.ru_utime + usage.ru_stime)
    resource.setrlimit(resource.RLIMIT_CPU, (used + seconds, resource.RLIM_INFINITY))


def _plain(value):
    """JSON for numpy scalars (as numbers) and the odd other value (as text)."""
    item = getattr(value, "item", None)
    return item() if callable(item) else str(value)


def serve(limits, stdin=sys.stdin, stdout=sys.stdout):
    """Answer requests until stdin closes or a request runs out of memory."""
    resource.setrlimit(resource.RLIMIT_AS, (limits["memory"], limits["memory"]))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    work_out = load_package().iterations.work_out
    # numpy, scipy and scikit-learn load now, before the caller's clock starts.
    importlib.import_module("hptuning.bo")
    importlib.import_module("hptuning.hyperband")
    stdout.write("ready\n")
    stdout.flush()
    for line in stdin:
        _limit_cpu(limits["cpu"])
        try:
            reply = answer(line, limits, work_out)
            text = json.dumps(reply, default=_plain)
        except MemoryError:  # the reply did not fit
            reply = {"error": {"limit": "memory", "message": memory_message(limits)}}
            text = json.dumps(reply)
        stdout.write(text + "\n")
        stdout.flush()
        if reply.get("error", {}).get("limit") == "memory":
            return  # what the failed allocation left behind goes with the process


if __name__ == "__main__":
    serve(json.loads(sys.argv[1]))
