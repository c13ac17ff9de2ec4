from tests.fixtures_db import blank_store, db_kind, pg_server, pg_template, store  # noqa: F401
