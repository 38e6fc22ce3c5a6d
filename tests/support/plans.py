"""Query plans as the index tests read them: the SELECTs a request runs, captured; their plans
(PostgreSQL or SQLite) searched for full reads of the big tables and for steps that grow with
them."""

import json
import re
from contextlib import contextmanager

from sqlalchemy import event, inspect

from dashboard.extensions import db
from tests.support.big_groups import BIG_TABLES, PER_GROUP


@contextmanager
def capturing():
    """Collect the (statement, parameters) of the SELECTs run inside the block."""
    statements = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            statements.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def leading_columns(connection):
    """{index name: (table, first column)} for the big tables' indexes and keys."""
    inspector = inspect(connection)
    found = {}
    for table in BIG_TABLES:
        keys = [
            inspector.get_pk_constraint(table),
            *inspector.get_unique_constraints(table),
            *inspector.get_indexes(table),
        ]
        for key in keys:
            columns = key.get("constrained_columns") or key.get("column_names")
            found[key["name"]] = (table, columns[0])
    return found


def postgresql_full_scans(plan, indexes):
    """Seq Scans of big tables, and index scans of theirs that constrain no leading column
    (PostgreSQL then reads the whole index: an index on (group_id, status) for status = x)."""
    found = re.findall(r"Seq Scan on (\w+)", plan)
    nodes = re.split(r"\n\s*->\s*", plan)
    for node in nodes:
        match = re.search(
            r"(?:Index Scan|Index Only Scan) using (\w+)|Bitmap Index Scan on (\w+)", node
        )
        if not match or (match.group(1) or match.group(2)) not in indexes:
            continue
        table, column = indexes[match.group(1) or match.group(2)]
        condition = re.search(r"Index Cond: (.*)", node)
        if condition is None or not re.search(rf"\b{column}\b", condition.group(1)):
            found.append(table)
    return found


def full_scans(statement, parameters):
    """The big tables a statement's plan reads in full."""
    with db.engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            rows = connection.exec_driver_sql(f"EXPLAIN {statement}", parameters).all()
            plan = "\n".join(row[0] for row in rows)
            found = postgresql_full_scans(plan, leading_columns(connection))
        else:
            rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()
            plan = "\n".join(row[-1] for row in rows)
            # "SEARCH t USING INDEX (col=?)" reads a range; "SCAN t" (even "USING INDEX")
            # reads every row. Aliases show as SQLAlchemy names them: experiment_values_1.
            found = [re.sub(r"_\d+$", "", name) for name in re.findall(r"\bSCAN (\w+)", plan)]
    return [table for table in found if table in BIG_TABLES], plan


def assert_no_full_scan(statements, what):
    assert statements, f"{what} ran no query"
    for statement, parameters in statements:
        scans, plan = full_scans(statement, parameters)
        assert not scans, f"{what} scans {scans} in full:\n{statement}\n{plan}"


def assert_request_reads_by_index(client, url, **kwargs):
    with capturing() as statements:
        response = client.get(url, **kwargs)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert_no_full_scan(statements, url)


def plan_nodes(node):
    """A node of an EXPLAIN (FORMAT JSON) plan and every node below it."""
    yield node
    for child in node.get("Plans", ()):
        yield from plan_nodes(child)


def unbounded_steps(statement, parameters, *, sorts=True):
    """The steps of a statement's plan, run (EXPLAIN ANALYZE), whose cost grows faster than
    the rows a page needs: a node repeated for each row of an outer loop that reads more than
    one row of a big table each time (a nested loop over a scan of a group's values), a read
    of a big table in full or of every group's values of a name (through the index on kind
    and name), or (unless sorts=False) a sort of more than a tenth of a group's rows."""
    with db.engine.connect() as connection:
        explained = connection.exec_driver_sql(
            f"EXPLAIN (ANALYZE, FORMAT JSON) {statement}", parameters
        ).scalar_one()
    plan = (json.loads(explained) if isinstance(explained, str) else explained)[0]["Plan"]
    found = []
    for node in plan_nodes(plan):
        loops = node.get("Actual Loops", 0)
        read = node.get("Actual Rows", 0) + node.get("Rows Removed by Filter", 0)
        tables = {n.get("Relation Name") for n in plan_nodes(node)} & set(BIG_TABLES)
        if tables and loops > 1 and read > 1:
            found.append(
                f"{node['Node Type']} reading {read} rows of {sorted(tables)} "
                f"in each of {loops} loops"
            )
        if node.get("Relation Name") in BIG_TABLES and (
            node["Node Type"] == "Seq Scan"
            or node.get("Index Name") == "ix_experiment_values_lookup"
        ):
            found.append(
                f"{node['Node Type']} of {node['Relation Name']} {node.get('Index Name', '')}"
            )
        if sorts and node["Node Type"] in ("Sort", "Incremental Sort"):
            rows = sum(c.get("Actual Rows", 0) * c.get("Actual Loops", 0) for c in node["Plans"])
            if rows > PER_GROUP // 10:
                found.append(f"{node['Node Type']} of {rows} rows")
    return found
