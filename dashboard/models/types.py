"""Column types shared by every model: aware UTC datetimes, order-keeping JSON, hex uuids."""

import json
import uuid
from datetime import UTC, datetime

import orjson
from sqlalchemy import DateTime, Text
from sqlalchemy.types import TypeDecorator


def utcnow():
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


def new_uuid():
    """32 lowercase hex characters, no dashes."""
    return uuid.uuid4().hex


class UTCDateTime(TypeDecorator):
    """Stores UTC and always returns an aware UTC datetime (SQLite drops the offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None:
            if value.tzinfo is None:
                value = value.replace(tzinfo=UTC)
            value = value.astimezone(UTC)
            if dialect.name == "sqlite":
                value = value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class JSONText(TypeDecorator):
    """JSON kept as text, so key order survives on every database (never jsonb)."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else json.dumps(value, separators=(",", ":"))

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        try:
            return orjson.loads(value)  # several times faster: pages read thousands of rows
        except orjson.JSONDecodeError:
            return json.loads(value)  # NaN and Infinity, which json writes and orjson refuses
