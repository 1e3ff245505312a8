"""What `make test` reports from the embedded PostgreSQL's log after the suite: statements slower
than 20 s and long or never-granted lock waits, each with its own detail lines only."""

from suqu.devservices import stall_entries

LOG = """\
2026-12-07 13:49:18.582 UTC [18140] LOG:  process 18140 still waiting for AccessExclusiveLock on rel 1 after 1000.1 ms
2026-12-07 13:49:18.582 UTC [18140] DETAIL:  Process holding the lock: 18645. Wait queue: 18140.
2026-12-07 13:49:18.582 UTC [18645] ERROR:  canceling autovacuum task
2026-12-07 13:49:18.582 UTC [18140] LOG:  process 18140 acquired AccessExclusiveLock on relation 1 after 1000.3 ms
2026-12-07 13:49:19.000 UTC [200] LOG:  process 200 still waiting for ShareLock on transaction 9 after 1000.0 ms
2026-12-07 13:49:19.000 UTC [200] DETAIL:  Process holding the lock: 201. Wait queue: 200.
2026-12-07 13:49:19.000 UTC [200] STATEMENT:  UPDATE volunteers_team SET name = 'x'
2026-12-07 13:49:20.000 UTC [300] ERROR:  duplicate key value violates unique constraint "supervision_once_per_unit"
2026-12-07 13:49:20.000 UTC [300] DETAIL:  Key (assignment_id, unit_id)=(1, 2) already exists.
2026-12-07 13:49:40.000 UTC [400] LOG:  duration: 21000.5 ms  plan:
\tQuery Text: SELECT count(*) FROM volunteers_team
\tAggregate  (cost=1.00..1.01 rows=1 width=8)
2026-12-07 13:49:41.000 UTC [500] LOG:  process 500 acquired ShareLock on transaction 7 after 25000.0 ms
"""


def test_only_the_slow_statements_and_the_long_or_endless_waits_are_reported_with_their_own_lines():
    entries = stall_entries(LOG.splitlines())
    assert [entry[0].split("] ", 1)[1][:30] for entry in entries] == [
        "LOG:  process 200 still waitin",  # never acquired: the stall itself
        "LOG:  duration: 21000.5 ms  pl",
        "LOG:  process 500 acquired Sha",  # granted after 25 s
    ]
    waiting, slow, _late = entries
    assert waiting[-1].endswith("UPDATE volunteers_team SET name = 'x'")
    assert not any("duplicate key" in line for entry in entries for line in entry)
    assert slow[1:] == [
        "\tQuery Text: SELECT count(*) FROM volunteers_team",
        "\tAggregate  (cost=1.00..1.01 rows=1 width=8)",
    ]
