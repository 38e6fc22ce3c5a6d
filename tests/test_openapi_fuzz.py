"""schemathesis fuzzes every operation of /api/v1/openapi.json against a live server.

Each operation runs in positive and negative mode with four checks: not_a_server_error,
response_schema_conformance, status_code_conformance and content_type_conformance. Half of the
cases keep what schemathesis generated for the path; the other half point it at seeded rows
(a project with a member, groups with finished and pending experiments), so the operations
answer from real data, not only 404s. Requests carry the member's token or the owner's (the
owner may delete groups and post statuses), or none when schemathesis negates the auth.

Budget: the full run, at least 100 examples per operation in each mode (FUZZ_EXAMPLES=100),
runs on SQLite only, i.e. when DATABASE_URL is unset; scripts/test.sh runs the PostgreSQL suite
at the same time on the same two cores, and there a smoke budget of 5 per mode keeps the same
code exercised. It makes about 9,400 requests in two to three minutes.
Operations without any input (GET users, versions, log_handler) stop early: hypothesis runs out
of distinct cases, and it has nothing to negate there.

Destructive operations (DELETE group, stop, archive, unbookmark) would starve the operations after
them of data, so every operation gets groups of its own, seeded just before its cases run
(re-seeding per operation costs a few inserts; a shared pool would make results depend on order).

The stateful phase (the last test) chains operations through the document's links: scenarios
of up to 40 requests, each after the first taking its path from an earlier answer (a new
project to its groups, a group to its actions and experiments, an experiment row to the
experiment's metrics, statuses, logs ...), with the same checks plus use_after_free and
ensure_resource_availability. Positive cases get what generation never lands on: a group
creation a real polyaxonfile, a list no generated filter, sort or offset. It must reach group
and experiment operations through links, answered 2xx. Budget: 25 scenarios on SQLite (about
400 to 900 requests, 10 s on an idle machine, 25 s on a loaded one), 10 on PostgreSQL (about
500 requests, 10 to 20 s; 5 no longer reached an experiment once the search plots gave a group
more operations to go to).
"""

import contextlib
import os
import time
from collections import Counter
from datetime import timedelta

import hypothesis
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Flaky, Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ensure_resource_availability,
    response_schema_conformance,
    status_code_conformance,
    use_after_free,
)
from sqlalchemy import select

from dashboard.extensions import db
from dashboard.models import (
    Experiment,
    TensorboardJob,
    Webhook,
    WebhookAttempt,
    WebhookDelivery,
)
from dashboard.models.types import utcnow
from tests.factories import add_member, grid_yml, make_group, make_project, make_token, make_user

FULL_RUN = not os.environ.get("DATABASE_URL")
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", 100 if FULL_RUN else 5))
CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
    content_type_conformance,
]
MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
# The stateful phase: scenarios of up to STEPS requests, under ~40 s on SQLite.
SCENARIOS = int(os.environ.get("FUZZ_SCENARIOS", 25 if FULL_RUN else 10))
STEPS = 40
MAX_SUITES = 20
STATEFUL_CHECKS = [*CHECKS, use_after_free, ensure_resource_availability]
STEERED_QUERY = {"query", "sort", "columns", "offset"}
GROUPS_PER_OPERATION = 3
GRID = (
    "version: 1\nkind: group\nhptuning:\n  concurrency: 2\n  matrix:\n"
    "    lr: {values: [0.1, 0.01, 0.001]}\n    act: {values: [relu, tanh]}\n"
    "run:\n  cmd: echo {{ lr }}\n"
)


def _seed_groups(project, owner):
    """Fresh groups for one operation: a grid with finished experiments and metrics, a pending
    one, and a third spare; returns [(group id, [experiment ids])]."""
    seeded = []
    for index in range(GROUPS_PER_OPERATION):
        group = make_group(project, owner, content=GRID if index == 0 else grid_yml(2))
        experiments = db.session.scalars(
            select(Experiment).where(Experiment.group_id == group.id).order_by(Experiment.id)
        ).all()
        if index == 0:
            start = utcnow() - timedelta(hours=1)
            for number, experiment in enumerate(experiments):
                experiment.status = "succeeded"
                experiment.started_at = start
                experiment.finished_at = start + timedelta(seconds=number + 1)
                experiment.last_metric = {"loss": 1.0 / (number + 1), "accuracy": number / 10}
            db.session.commit()
        seeded.append((group.id, [e.id for e in experiments]))
    return seeded


def _seed_webhook(project, group_id):
    """A webhook of the project with one delivery attempted (its deliveries answer a row);
    made directly, past the project's cap (one per operation)."""
    webhook = Webhook(
        project_id=project.id, url="https://hooks.example.com/f", events=["group.failed"]
    )
    db.session.add(webhook)
    db.session.flush()
    delivery = WebhookDelivery(
        webhook_id=webhook.id, event="group.failed", group_id=group_id, status="failed"
    )
    db.session.add(delivery)
    db.session.flush()
    db.session.add(
        WebhookAttempt(delivery_id=delivery.id, webhook_id=webhook.id, number=1, status_code=404)
    )
    db.session.commit()
    return webhook.id


def _seed_selection(project, owner, experiment_ids):
    """A stopped TensorBoard of the project over two experiments (no process: none is read)."""
    job = TensorboardJob(
        project_id=project.id,
        user_id=owner.id,
        experiment_ids=sorted(experiment_ids[:2]),
        status="stopped",
    )
    db.session.add(job)
    db.session.commit()
    return job.id


def _real_path(operation, owner, project, seeded, pick, rows):
    """Path parameters naming seeded rows (for the names the operation's path has); `rows`
    holds the ids of the project's webhook and TensorBoard."""
    group_id, experiment_ids = seeded[pick % len(seeded)]
    values = {
        "username": owner,
        "project_name": project,
        "group_id": group_id,
        "experiment_id": experiment_ids[pick % len(experiment_ids)],
        **rows,
    }
    names = [p.name for p in operation.path_parameters]
    return {name: values[name] for name in names}


def _fuzz_operation(operation, mode, base_url, tokens, real_path, report):
    strategy = operation.as_strategy(generation_mode=mode)
    session = requests.Session()

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(
        case=strategy, use_real=st.booleans(), pick=st.integers(0, 5), token=st.sampled_from(tokens)
    )
    def run(case, use_real, pick, token):
        if use_real and operation.path_parameters:
            case.path_parameters = {**(case.path_parameters or {}), **real_path(pick)}
        try:
            response = case.call(
                base_url=base_url,
                session=session,
                headers={"Authorization": f"token {token}"},
                timeout=30,
            )
        except requests.RequestException as exc:
            report.error(operation.label, mode, f"request failed: {exc!r}")
            return
        report.count(operation.label, response.status_code)
        try:
            case.validate_response(response, checks=CHECKS)
        except (AssertionError, BaseExceptionGroup) as exc:  # every failed check of the case
            report.error(operation.label, mode, str(exc))

    try:
        run()
    except Unsatisfiable:
        # Nothing to negate (no parameters, no body): the positive run covers the operation.
        assert mode is GenerationMode.NEGATIVE, operation.label
        report.no_negative.append(operation.label)
    finally:
        session.close()


class Report:
    """Request counts and distinct failures (one per operation, mode and first line)."""

    def __init__(self):
        self.requests = 0
        self.by_operation = Counter()
        self.statuses = Counter()
        self.failures = {}
        self.no_negative = []
        self.scenarios = 0

    def count(self, label, status):
        self.requests += 1
        self.by_operation[label] += 1
        self.statuses[status] += 1

    def error(self, label, mode, text):
        key = (label, mode.value, text.strip().splitlines()[0] if text.strip() else "")
        self.failures.setdefault(key, text)

    def details(self, live_server):
        """Every failure, then the end of the server's log."""
        failures = "\n\n".join(
            f"{label} [{mode}]\n{text}" for (label, mode, _), text in self.failures.items()
        )
        return f"{failures}\n\nserver log:\n{live_server.tail()}"


@pytest.fixture
def fuzz_world(live_server):
    owner = make_user("owner", "owner-pw")
    member = make_user("member", "member-pw")
    project = make_project(owner, "fuzz", public=False)
    add_member(project, member, "member")
    return {"owner": owner, "project": project, "tokens": [make_token(member), make_token(owner)]}


def test_schemathesis_finds_no_failure_on_any_operation(live_server, fuzz_world, capsys):
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/v1/openapi.json")
    owner, project = fuzz_world["owner"], fuzz_world["project"]
    report, started = Report(), time.monotonic()
    operations = [result.ok() for result in schema.get_all_operations()]
    for operation in operations:
        seeded = _seed_groups(project, owner)
        rows = {
            "webhook_id": _seed_webhook(project, seeded[0][0]),
            "tensorboard_id": _seed_selection(project, owner, seeded[0][1]),
        }

        def real_path(pick, operation=operation, seeded=seeded, rows=rows):
            return _real_path(operation, owner.username, project.name, seeded, pick, rows)

        for mode in MODES:
            _fuzz_operation(
                operation, mode, live_server.url, fuzz_world["tokens"], real_path, report
            )
    elapsed = time.monotonic() - started
    with_inputs = {
        label: n for label, n in report.by_operation.items() if label not in report.no_negative
    }
    with capsys.disabled():
        print(
            f"\nschemathesis: {report.requests} requests over {len(operations)} operations, "
            f"{EXAMPLES} examples per mode (positive, negative); fewest requests for an "
            f"operation with inputs: {min(with_inputs.values())}; {elapsed:.0f} s; statuses "
            f"{dict(sorted(report.statuses.items()))}; {len(report.failures)} failures; "
            f"operations without inputs (positive only): {report.no_negative}"
        )
    assert not report.failures, report.details(live_server)
    assert len(report.by_operation) == len(operations)
    assert min(with_inputs.values()) >= len(MODES) * EXAMPLES


# ---- the stateful phase: operations chained through the document's links ------------------


def _level(operation):
    """Which resource an operation acts on by its path: experiment, group or None."""
    names = {parameter.name for parameter in operation.path_parameters}
    return next((level for level in ("experiment", "group") if f"{level}_id" in names), None)


def _steer(case):
    """Give a positive case what generation never hits, so that chains reach groups and their
    experiments: a group creation a real polyaxonfile (the rest of the body as generated), a
    list its first page in the default order with no filter (random text is never a filter).
    The per-operation phase fuzzes both."""
    if case.operation.definition.raw["operationId"] == "create_group" and isinstance(
        case.body, dict
    ):
        case.body = {**case.body, "content": grid_yml(2)}
    if case.query:
        case.query = {
            name: value for name, value in case.query.items() if name not in STEERED_QUERY
        }


def _run_suites(workflow, report):
    """Play the state machine until SCENARIOS scenarios have run; returns how many suites.

    The API's state changes under Hypothesis (a name gets taken, a group deleted), so a suite
    may replay a prefix and find a different answer: Hypothesis raises Flaky, and like
    schemathesis's own runner we start another suite, with the next seed, for the rest.
    """
    suite = 0
    while report.scenarios < SCENARIOS and suite < MAX_SUITES:
        workflow.rule_order_seed = suite
        with contextlib.suppress(Flaky):
            hypothesis.seed(suite)(workflow).run(
                settings=settings(
                    max_examples=SCENARIOS - report.scenarios,
                    stateful_step_count=STEPS,
                    deadline=None,
                    database=None,
                    phases=[Phase.generate],
                    suppress_health_check=list(HealthCheck),
                )
            )
        suite += 1
    return suite


def test_schemathesis_stateful_phase_chains_operations_through_links(live_server, capsys):
    """Scenarios of up to STEPS requests, each after the first following a link of the
    document from an earlier answer; a link counts as followed when every path parameter of its
    target came from that answer."""
    headers = {"Authorization": f"token {make_token(make_user('owner', 'owner-pw'))}"}
    # The document's links only: schemathesis would otherwise add links of its own inference.
    config = SchemathesisConfig.from_dict(
        {"phases": {"stateful": {"inference": {"algorithms": []}}}}
    )
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/v1/openapi.json", config=config)
    report, followed, session = Report(), Counter(), requests.Session()

    class Workflow(schema.as_state_machine()):
        def get_call_kwargs(self, case):
            return {
                "base_url": live_server.url,
                "session": session,
                "headers": headers,
                "timeout": 30,
            }

        def before_call(self, case):
            if case.meta.generation.mode is GenerationMode.POSITIVE:
                _steer(case)

        def step(self, input):
            try:
                output = super().step(input)
            except requests.RequestException as exc:
                # Reported with the rest; the scenario goes on without this answer.
                report.error(
                    input.case.operation.label,
                    input.case.meta.generation.mode,
                    f"request failed: {exc!r}\n{input.case.as_curl_command()}",
                )
                return None
            target = input.case.operation
            applied = {
                name
                for location, name in input.applied_parameters
                if location is ParameterLocation.PATH
            }
            if input.transition and applied == {p.name for p in target.path_parameters}:
                followed[_level(target), output.response.status_code < 300] += 1
            return output

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            report.count(case.operation.label, response.status_code)
            try:
                case.validate_response(
                    response,
                    checks=STATEFUL_CHECKS,
                    transport_kwargs=kwargs,
                    recorder=self.recorder,
                )
            except (AssertionError, BaseExceptionGroup) as exc:
                report.error(case.operation.label, case.meta.generation.mode, str(exc))

        def teardown(self):
            report.scenarios += 1
            super().teardown()

    started = time.monotonic()
    try:
        suites = _run_suites(Workflow, report)
    finally:
        session.close()
    elapsed = time.monotonic() - started
    with capsys.disabled():
        print(
            f"\nschemathesis stateful: {report.requests} requests, {report.scenarios} "
            f"scenarios ({suites} suites), {sum(followed.values())} links followed (2xx: "
            f"{followed['group', True]} on groups, {followed['experiment', True]} on "
            f"experiments); {elapsed:.0f} s; statuses "
            f"{dict(sorted(report.statuses.items()))}; {len(report.failures)} failures"
        )
    assert not report.failures, report.details(live_server)
    assert followed["group", True] and followed["experiment", True], dict(followed)
