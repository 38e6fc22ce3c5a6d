"""Request connections (dashboard/database.py): checked without a round trip, reads without a
transaction on PostgreSQL."""

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from dashboard.extensions import db
from tests.factories import auth, make_project, make_token, make_user
from tests.support.environment import DATABASE_URL

POSTGRES = pytest.mark.skipif(
    not DATABASE_URL.startswith("postgresql"), reason="PostgreSQL connections only"
)


def _probe(app):
    """A route answering whether its connection is in autocommit, for GET and POST."""

    def probe():
        return {"autocommit": db.session.connection().connection.dbapi_connection.autocommit}

    app.add_url_rule("/_probe", "probe", probe, methods=["GET", "POST"])
    app.config["WTF_CSRF_ENABLED"] = False
    return app.test_client()


@POSTGRES
def test_a_get_reads_in_autocommit_and_a_post_in_a_transaction(fresh_app):
    client = _probe(fresh_app)
    assert client.get("/_probe").json == {"autocommit": True}
    assert client.post("/_probe").json == {"autocommit": False}


@POSTGRES
def test_a_get_streaming_rows_reads_them_in_a_transaction(fresh_app):
    def stream():
        rows = db.session.execute(
            text("SELECT generate_series(1, 5)").execution_options(yield_per=2)
        )
        return {"rows": [row[0] for row in rows]}

    fresh_app.add_url_rule("/_stream", "stream", stream)
    assert fresh_app.test_client().get("/_stream").json == {"rows": [1, 2, 3, 4, 5]}


@POSTGRES
def test_a_get_leaves_no_autocommit_behind_for_the_next_work(fresh_app):
    client = _probe(fresh_app)
    with fresh_app.app_context():
        client.get("/_probe")
        # The same app context (as in a test, or a CLI command serving requests): the next
        # statements run in a transaction again, and a rollback undoes them.
        assert db.session.connection().connection.dbapi_connection.autocommit is False
        db.session.execute(text("CREATE TEMPORARY TABLE probe_t (x integer)"))
        db.session.rollback()
        with pytest.raises(Exception, match="probe_t"):
            db.session.execute(text("SELECT * FROM probe_t"))
        db.session.rollback()


@POSTGRES
def test_a_request_after_its_pooled_connection_was_killed_is_answered(client):
    key = make_token(make_user("ann"))
    assert client.get("/api/v1/users", headers=auth(key)).status_code == 200
    db.session.remove()  # the connection goes back to the pool
    killer = create_engine(DATABASE_URL, poolclass=NullPool)
    with killer.connect() as other:
        # Kill every other backend of this database: the pooled one is among them.
        other.execute(
            text(
                "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
    killer.dispose()

    assert client.get("/api/v1/users", headers=auth(key)).status_code == 200


def test_an_api_get_answers_as_before(client):
    owner = make_user("ann")
    make_project(owner, "p")
    response = client.get("/api/v1/ann/p", headers=auth(make_token(owner)))
    assert response.status_code == 200
    assert response.json["name"] == "p"
