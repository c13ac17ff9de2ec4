#!/bin/sh
# Run once by the postgres image when its data directory is first initialised
# (/docker-entrypoint-initdb.d). Creates the roles docker-compose.yml uses:
#   reviewchain_owner  owns the database, its tables and their triggers; runs the migrations
#   reviewchain_app    what the API and the workers connect as: no ownership, no superuser;
#                      its rights on the tables are granted by `python cli.py db migrate
#                      --service-role reviewchain_app` (store/roles.py)
#   temporal           the Temporal server's own databases (it creates them: CREATEDB)
# Passwords come from the environment and are passed as psql variables (quoted by psql).
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
  -v owner_password="$REVIEWCHAIN_DB_OWNER_PASSWORD" \
  -v app_password="$REVIEWCHAIN_DB_APP_PASSWORD" \
  -v temporal_password="$TEMPORAL_DB_PASSWORD" <<'SQL'
CREATE ROLE reviewchain_owner LOGIN PASSWORD :'owner_password';
CREATE ROLE reviewchain_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'app_password';
CREATE ROLE temporal LOGIN CREATEDB PASSWORD :'temporal_password';
CREATE DATABASE reviewchain OWNER reviewchain_owner;
REVOKE ALL ON DATABASE reviewchain FROM PUBLIC;
GRANT CONNECT ON DATABASE reviewchain TO reviewchain_app;
SQL
