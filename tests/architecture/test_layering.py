"""The layering of docs/architecture.md, held by reading every import of every app (imports
inside functions included): an app imports only apps of a lower layer (or of its own), the stages
never import each other, and no app imports the project package `suqu`, which wires the apps
together (settings, URLs, the Celery app) and sits above them all."""

import ast
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Lower numbers are lower layers. Apps of one layer may import each other, except the stages.
LAYERS = {
    "accounts": 0,  # users
    "grids": 0,  # places and grid postings
    "outbox": 0,  # messages to send (SMS, e-mail), whoever writes them
    "cases": 1,  # the case file: Case, its events, categories, the lifecycle; shared plumbing
    "deadlines": 2,  # working time, the calendar, SLA policies, a part's deadlines
    "units": 2,  # units, memberships, pairings
    "routing": 3,  # rules, dispatch, assignments, scope, permissions
    "escalation": 3,  # the deadline sweep, alerts, supervision (scope and dispatch read it)
    "notices": 3,  # who hears about what: the notice table, the inbox, SMS templates, preferences
    "suggestions": 3,  # categories suggested from a call's text, learned from the closed cases
    "intake": 4,  # the stages of the loop
    "handling": 4,
    "feedback": 4,
    "volunteers": 4,  # the social half: teams, volunteers, tasks, bookings, points (not a stage)
    "casework": 5,  # the case pages and the case API, over every stage
    "dashboards": 5,  # read-only figures over every stage
    "mediation": 5,  # 评理说事 and 议事会: settles cases (resolves through handling), so above the stages
    "integrations": 5,  # outside systems: keys, Open311, work orders and their webhooks
    "residents": 5,  # the residents' own page: a confirmed mobile number, their requests
    "scale": 6,  # the data generator and the benchmark: tools over the whole product
}
STAGES = {"intake", "handling", "feedback"}
PROJECT = "suqu"

# Edges the layering forbids that are still in the code, each with why, removed as they are
# fixed: a listed edge that is gone fails the test too, so the list only shrinks.
PENDING = {}


def imports_of(source: str):
    """(line, imported module) for every absolute import in `source`, at any depth."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module


def forbidden(importer: str, imported: str) -> str | None:
    """Why `importer` may not import `imported` (two of our apps or the project), or None."""
    if importer == imported or (imported not in LAYERS and imported != PROJECT):
        return None
    if importer == PROJECT:
        return None
    if imported == PROJECT:
        return "an app imports the project package"
    if importer in STAGES and imported in STAGES:
        return "a stage imports another stage"
    if LAYERS[imported] > LAYERS[importer]:
        return "a lower layer imports a higher one"
    return None


def edges(files):
    """Every forbidden edge of `files` ({path: source}): (importer, imported) → [where, why]."""
    found = {}
    for path, source in files.items():
        importer = path.split("/")[0]
        if importer not in LAYERS or "/migrations/" in path:
            continue
        for line, module in imports_of(source):
            imported = module.split(".")[0]
            why = forbidden(importer, imported)
            if why:
                found.setdefault((importer, imported), []).append(f"{path}:{line} imports {module}: {why}")
    return found


def project_sources():
    names = subprocess.run(["git", "ls-files", "*.py"], cwd=ROOT, capture_output=True, text=True).stdout.split()
    return {name: (ROOT / name).read_text() for name in names if (ROOT / name).exists()}


def test_every_app_of_the_project_has_a_layer():
    apps = {path.parent.name for path in ROOT.glob("*/apps.py")} - {PROJECT}
    assert apps == set(LAYERS)


def test_no_app_imports_against_the_layering():
    found = edges(project_sources())
    new = {edge: where for edge, where in found.items() if edge not in PENDING}
    assert new == {}
    fixed = set(PENDING) - set(found)
    assert not fixed, f"{fixed} no longer happen: take them off PENDING"


def test_the_check_catches_each_kind_of_forbidden_import_even_inside_a_function():
    files = {
        "handling/views.py": "def page():\n    from feedback.services import case_callback\n",
        "cases/models.py": "import routing.models\n",
        "routing/api.py": "from suqu.schema import NOT_FOUND\n",
        "dashboards/selectors.py": "from intake.models import Call\nfrom routing import selectors\n",
        "suqu/urls.py": "from dashboards import views\n",
    }
    assert {edge: [why.split(": ", 1)[1] for why in where] for edge, where in edges(files).items()} == {
        ("handling", "feedback"): ["a stage imports another stage"],
        ("cases", "routing"): ["a lower layer imports a higher one"],
        ("routing", "suqu"): ["an app imports the project package"],
    }
