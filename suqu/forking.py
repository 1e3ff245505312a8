"""A forked process starts without the parent's database connections and pool.

Processes fork with Django loaded: Celery's prefork pool, the data generator's workers, gunicorn
with --preload. The child inherits the parent's open connection and its connection pool (whose
maintenance threads do not survive the fork): a child using either would talk over the parent's
socket, or wait forever for a pool no thread serves. So the child forgets both at once, without
closing them (closing would send PostgreSQL a goodbye over the parent's socket and end the
parent's session), and opens its own on first use.
"""

import os

from django.db import connections

# Kept referenced, so that the child never finalises (and so closes) what the parent still uses.
_INHERITED = []


def forget_inherited_database():
    for wrapper in connections.all(initialized_only=True):
        if wrapper.connection is not None:
            _INHERITED.append(wrapper.connection)
            wrapper.connection = None
    from django.db.backends.postgresql.base import DatabaseWrapper

    _INHERITED.append(dict(DatabaseWrapper._connection_pools))
    DatabaseWrapper._connection_pools.clear()


def install():
    os.register_at_fork(after_in_child=forget_inherited_database)
