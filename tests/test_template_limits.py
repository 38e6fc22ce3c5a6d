"""run.cmd renders in a renderer process bounded in time, memory and output: template bombs are
refused naming the limit, in the web check as in the scheduler, and the renderer recovers."""

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import func, select

from dashboard.extensions import db
from dashboard.hptuning import SpecError, parse_group_spec, templates
from dashboard.models import ExperimentGroup
from tests.factories import auth, make_project, make_token, make_user

HANG_GUARD = 60  # seconds: far above the limits; only a renderer that hangs gets near it

MEMORY = "memory limit of 256 MiB"
TIME = "time limit of 1 s"
OUTPUT = "limit of 100,000 characters"
BOMBS = {
    "replace twice": ("{{ 'ab'|replace('a', 'a' * 90000)|replace('a', 'a' * 90000) }}", MEMORY),
    "center": ("{{ 'a'|center(1000000000) }}", MEMORY),
    "format": ("{{ '%1000000000d'|format(1) }}", MEMORY),
    "ljust": ("{{ 'a'.ljust(1000000000) }}", MEMORY),
    "indent": ("{{ ('a\\n' * 50000)|indent(20000) }}", ""),  # memory or time, as below
    "doubling loop": (
        "{% set s = namespace(v='ab') %}{% for i in range(60) %}"
        "{% set s.v = s.v ~ s.v %}{% endfor %}{{ s.v|length }}",
        "",  # memory or time: which runs out first depends on the machine's speed
    ),
    "nested ranges": (
        "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
        TIME,
    ),
    "nested ranges printing": (
        "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}",
        OUTPUT,
    ),
}


def group(cmd):
    return (
        "version: 1\nkind: group\nhptuning: {matrix: {lr: {values: [0.1, 0.01]}}}\n"
        f"run:\n  cmd: {json.dumps(cmd)}\n"
    )


def guarded(function, *args):
    """function(*args) in a thread, waited for at most HANG_GUARD seconds."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(function, *args).result(timeout=HANG_GUARD)


def refusal(content):
    def parse():
        with pytest.raises(SpecError) as info:
            parse_group_spec(content)
        return info.value.errors

    return guarded(parse)


@pytest.mark.parametrize("name", list(BOMBS))
def test_a_template_bomb_is_refused_naming_the_limit(name):
    source, limit = BOMBS[name]
    errors = refusal(group(source))
    assert len(errors) == 1 and errors[0].startswith("run.cmd: ")
    assert limit in errors[0]
    assert any(word in errors[0] for word in ("memory limit", "time limit", "characters"))


def test_a_list_command_names_the_item_over_the_limit():
    errors = refusal(group(["train", "{{ 'a'|center(1000000000) }}"]))
    assert errors == [f"run.cmd[1]: the template needs more than the renderer's {MEMORY}"]


def test_the_next_render_after_a_breach_works_in_a_fresh_renderer():
    refusal(group(BOMBS["center"][0]))
    refusal(group(BOMBS["nested ranges"][0]))
    spec = guarded(parse_group_spec, group("train --lr={{ lr }}"))
    assert guarded(templates.render_command, spec, {"lr": 0.5}) == "train --lr=0.5"


def test_a_renderer_runs_with_its_address_space_capped():
    renderer = templates.Renderer()
    try:
        assert renderer.request([["run.cmd", "{{ 1 + 1 }}"]], {}) == {"ok": ["2"]}
        limits = Path(f"/proc/{renderer.process.pid}/limits").read_text()
    finally:
        renderer.close()
    line = next(row for row in limits.splitlines() if row.startswith("Max address space"))
    assert line.split()[3:5] == [str(templates.MEMORY_BYTES)] * 2


def test_a_renderer_killed_meanwhile_is_replaced():
    spec = guarded(parse_group_spec, group("train --lr={{ lr }}"))
    for renderer in list(templates._idle):
        renderer.process.kill()
        renderer.process.wait()
    assert guarded(templates.render_command, spec, {"lr": 2}) == "train --lr=2"


def test_numpy_params_render_as_numbers():
    import numpy as np

    rendered = guarded(
        templates.render_cmd,
        "--a={{ a }} --b={{ b + 1 }}",
        {"a": np.int64(3), "b": np.float64(0.25)},
    )
    assert rendered == "--a=3 --b=1.25"


def test_posting_a_template_bomb_is_400_naming_the_limit_and_creates_nothing(client):
    owner = make_user("root")
    make_project(owner, "quick-start")
    headers = auth(make_token(owner))

    response = guarded(
        lambda: client.post(
            "/api/v1/root/quick-start/groups",
            json={"content": group(BOMBS["replace twice"][0])},
            headers=headers,
        )
    )

    assert response.status_code == 400
    assert response.json == {
        "content": [f"run.cmd: the template needs more than the renderer's {MEMORY}"]
    }
    assert db.session.scalar(select(func.count()).select_from(ExperimentGroup)) == 0
