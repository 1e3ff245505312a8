#!/bin/sh
# Run once by the postgres image when it creates the primary's cluster (docker-entrypoint-initdb.d):
# the role the read replica streams WAL as, and pg_hba.conf's permission for it. wal_level=replica
# and max_wal_senders=10 are PostgreSQL's defaults, so nothing else changes.
set -eu
psql -v ON_ERROR_STOP=1 -v password="$REPLICATION_PASSWORD" --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<'SQL'
CREATE ROLE replicator WITH REPLICATION LOGIN PASSWORD :'password';
SQL
# "all" in pg_hba.conf's database column does not cover replication connections: they need their own line.
echo "host replication replicator all scram-sha-256" >> "$PGDATA/pg_hba.conf"
