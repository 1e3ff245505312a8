"""Writes on the case file that need no knowledge of who may do them (the layers above check that)."""

import csv
import hashlib
import secrets
import uuid
from pathlib import Path

from django.db import connection, transaction
from django.utils import timezone
from PIL import Image

from cases import lifecycle
from cases.models import Case, CasePhoto, Category, ResidentLink
from cases.validators import PHOTO_EXTENSIONS

TITLE_LENGTH = 40


def case_number_next(*, now=None) -> str:
    """The next case number, like SJT-20261127-00042: the day, then a per-day counter.

    One atomic upsert on the day's counter row, so concurrent intakes never share a number; the
    numbers sort in the order they were given.
    """
    day = timezone.localdate(now)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO cases_casenumbercounter (day, last) VALUES (%s, 1)
            ON CONFLICT (day) DO UPDATE SET last = cases_casenumbercounter.last + 1
            RETURNING last
            """,
            [day],
        )
        (last,) = cursor.fetchone()
    return f"SJT-{day:%Y%m%d}-{last:05d}"


def title_from(description) -> str:
    first_line = description.strip().splitlines()[0] if description.strip() else ""
    return first_line[:TITLE_LENGTH] + ("…" if len(first_line) > TITLE_LENGTH else "")


@transaction.atomic
def case_open(
    *,
    actor,
    channel,
    category,
    grid,
    description,
    priority=None,
    address="",
    latitude=None,
    longitude=None,
    caller_name="",
    caller_phone="",
    caller_confidential=False,
    photos=(),
) -> Case:
    """Open a case in `registered` with its first event. Every case has a number, a grid and a
    category from the moment it exists."""
    case = Case.objects.create(
        number=case_number_next(),
        channel=channel,
        priority=priority or category.default_priority,
        category=category,
        grid=grid,
        address=address,
        latitude=latitude,
        longitude=longitude,
        title=title_from(description),
        description=description,
        caller_name=caller_name,
        caller_phone=caller_phone,
        caller_confidential=caller_confidential,
        created_by=actor,
    )
    lifecycle.record_open(case=case, actor=actor, data={"channel": channel})
    case_photos_add(case=case, actor=actor, images=photos)
    return case


def case_photos_add(*, case, actor, images, stage=CasePhoto.Stage.INTAKE) -> list[CasePhoto]:
    """Attach already-validated images (the forms and serializers check their content).

    Each is stored under a random name whose extension comes from the format Pillow read, never
    from the uploaded name: a file named `x.html` or `x.js` must not be served as a page or script.
    """
    photos = []
    for image in images:
        image.seek(0)
        with Image.open(image) as opened:
            extension = PHOTO_EXTENSIONS[opened.format]
        image.seek(0)
        image.name = f"{uuid.uuid4().hex}.{extension}"
        photos.append(CasePhoto.objects.create(case=case, stage=stage, image=image, uploaded_by=actor))
    return photos


def categories_suggested(text, *, limit=5) -> list[Category]:
    """Second-level categories whose keywords occur in `text`, the most matches first."""
    if not text.strip():
        return []
    scored = []
    for category in Category.objects.filter(is_active=True, parent__isnull=False).exclude(keywords=""):
        hits = sum(1 for word in category.keyword_list if word in text)
        if hits:
            scored.append((-hits, category.code, category))
    return [category for *_key, category in sorted(scored)[:limit]]


CATEGORIES_FILE = Path(__file__).resolve().parent / "data" / "categories.csv"


@transaction.atomic
def categories_load(*, path=CATEGORIES_FILE) -> int:
    """Create the seeded categories that are missing; returns how many were created.

    Existing rows are never overwritten: an administrator may have renamed or re-keyed them.
    """
    with open(path, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    existing = dict(Category.objects.values_list("code", "pk"))
    created = 0
    # Parents come first in the file, so a child always finds its parent's id.
    for row in rows:
        if row["code"] in existing:
            continue
        category = Category.objects.create(
            code=row["code"],
            name=row["name"],
            parent_id=existing.get(row["parent_code"]) if row["parent_code"] else None,
            default_priority=row["priority"],
            keywords=row["keywords"],
            requires_verification=row.get("verify") == "1",
        )
        existing[category.code] = category.pk
        created += 1
    return created


def resident_link_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


RESIDENT_LINK_DAYS = 7


def resident_link_issue(*, case, days=RESIDENT_LINK_DAYS) -> str:
    """A new single-use token for the caller of `case`; returns the token itself (only its hash is
    kept). Earlier unused links of the case stop working, so only the newest message counts."""
    token = secrets.token_urlsafe(24)
    now = timezone.now()
    with transaction.atomic():
        ResidentLink.objects.filter(case=case, used_at__isnull=True, expires_at__gt=now).update(expires_at=now)
        ResidentLink.objects.create(
            case=case, token_hash=resident_link_hash(token), expires_at=now + timezone.timedelta(days=days)
        )
    return token
