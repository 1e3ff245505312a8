#!/bin/sh
# The read replica's start (docker-compose.yml, db-replica): on the first start, copy the primary
# with pg_basebackup -R (it writes primary_conninfo and standby.signal), then run PostgreSQL as a hot
# standby that follows the primary's WAL stream. Later starts find the copy and resume streaming.
set -eu
if [ ! -s "$PGDATA/PG_VERSION" ]; then
    mkdir -p "$PGDATA"
    chmod 700 "$PGDATA"
    PGPASSWORD="$REPLICATION_PASSWORD" pg_basebackup --host=db --username=replicator \
        --pgdata="$PGDATA" --write-recovery-conf --wal-method=stream --checkpoint=fast --progress
fi
# hot_standby_feedback: the primary keeps the rows a long read here (an export) still needs, so
# its vacuum does not cancel that read.
exec postgres -c hot_standby=on -c hot_standby_feedback=on
