"""Fixtures of the reliability tests: the API around the shared Temporal environment
(tests/api/conftest.py) and the store on SQLite and PostgreSQL (tests/fixtures_db.py)."""

from tests.api.conftest import api, app, http  # noqa: F401
from tests.fixtures_db import db_kind, pg_server, pg_template, store  # noqa: F401
