"""The bad-input census's machinery: a registry of bad inputs (label, expected status, a piece
of the message, how to send it), table snapshots, and the archives the upload cases send."""

import hashlib
import io
import json
import tarfile

from bs4 import BeautifulSoup
from sqlalchemy import select

from dashboard.extensions import db

UP = "/api/v1/root/census"
UI = "/root/census"


class Cases(list):
    """Bad inputs as (label, status, piece of the message, send(world)), in registration order."""

    def bad(self, label, status, says):
        """Register a bad input: its label, the status it must get, a piece of its message."""

        def register(send):
            self.append((label, status, says, send))
            return send

        return register


def snapshot():
    """Every table: its row count and a hash of its rows in primary-key order."""
    state = {}
    for table in db.metadata.sorted_tables:
        rows = db.session.execute(select(table).order_by(*table.primary_key.columns)).all()
        digest = hashlib.sha256(repr([tuple(row) for row in rows]).encode()).hexdigest()
        state[table.name] = (len(rows), digest)
    return state


def message_of(response):
    """The answer's text: the JSON body as written, else the HTML page's visible text."""
    if response.is_json:
        return json.dumps(response.json, ensure_ascii=False)
    return BeautifulSoup(response.get_data(as_text=True), "html.parser").get_text(" ")


def tarball(members=(), *, gz=True):
    """A tar(.gz) in memory; members are (name, bytes) files or (name, TarInfo) entries."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz" if gz else "w") as archive:
        for name, data in members:
            if isinstance(data, tarfile.TarInfo):
                archive.addfile(data)
                continue
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def link(name, target, kind=tarfile.SYMTYPE):
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, target
    return name, info


def post_json(w, url, raw, content_type="application/json", method="post"):
    return getattr(w["api"], method)(url, data=raw, content_type=content_type, headers=w["h"])
