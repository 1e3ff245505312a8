"""No state is set by hand: an object's `state` is written only by the move function of its table
(`cases.moves.rows_move`, through `routing.assignments` and the export jobs' table; the outbox's
own `_message_move`), and a case's
`status` only by `cases.lifecycle` (held by tests/cases/test_lifecycle.py). The source is parsed,
not grepped, so a write spelled over several lines is found too."""

import ast
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WRITES = {"update", "create", "bulk_create", "get_or_create", "update_or_create"}
# Where a state may be written: the move function, and the modules that create rows in a state
# (a new part of a case, already signed for a redo).
WRITERS = ("cases/moves.py", "routing/assignments.py")  # and the outbox, which passes the target along


def state_writes(path, source):
    """`path:line` of each write of a `state` field to a named state (`X.State.Y`) or by hand
    (`obj.state = …`) in `source`."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in WRITES
            and any(k.arg == "state" and ".State." in ast.unparse(k.value) for k in node.keywords)
        ) or (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Attribute) and t.attr == "state" for t in node.targets)
        ):
            found.append(f"{path}:{node.lineno}")
    return found


def test_only_the_move_functions_write_a_state():
    names = subprocess.run(["git", "ls-files", "*.py"], cwd=ROOT, capture_output=True, text=True).stdout.split()
    found = []
    for name in names:
        # The data generator (scale/) writes months of history in bulk, as the moves leave it.
        if name.startswith((*WRITERS, "tests/", "scale/")) or "/migrations/" in name:
            continue
        if (ROOT / name).exists():
            found += state_writes(name, (ROOT / name).read_text())
    assert found == []


def test_the_check_finds_a_write_spelled_over_several_lines_and_one_by_hand():
    source = (
        "Assignment.objects.filter(pk=1).update(\n    state=Assignment.State.DONE, finished_at=now\n)\n"
        "job.state = 'done'\n"
        "ExportJob.objects.filter(state=ExportJob.State.RUNNING).count()\n"
    )
    assert sorted(state_writes("x.py", source)) == ["x.py:1", "x.py:4"]
