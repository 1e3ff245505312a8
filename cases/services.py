"""Writes on the case file that need no knowledge of who may do them (the layers above check that)."""

import csv
import hashlib
import secrets
import uuid
from dataclasses import dataclass, fields
from decimal import Decimal
from pathlib import Path

from django.db import connection, transaction
from django.utils import timezone
from PIL import Image

from cases import lifecycle
from cases.models import Case, CasePhoto, Category, ResidentLink
from cases.validators import PHOTO_EXTENSIONS
from grids.models import Region

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


@dataclass(frozen=True)
class CallDetails:
    """What a caller reports, as the call form and the API carry it: the fields a case is opened
    with and a call is recorded with, passed as one value instead of a dozen keyword arguments."""

    channel: str
    description: str
    category: Category
    grid: Region
    priority: str | None = None  # None: the category's default
    address: str = ""
    latitude: Decimal | None = None
    longitude: Decimal | None = None
    caller_name: str = ""
    caller_phone: str = ""
    caller_confidential: bool = False
    photos: tuple = ()  # validated images, added to the case

    @classmethod
    def from_data(cls, data) -> "CallDetails":
        """From a form's or a serializer's cleaned data: its fields of a call, the rest (what to
        attach to, the answer, a submission key) left to the caller."""
        names = {field.name for field in fields(cls)}
        values = {name: value for name, value in data.items() if name in names}
        values["priority"] = values.get("priority") or None
        values["photos"] = tuple(values.get("photos") or ())
        return cls(**values)

    @property
    def case_priority(self) -> str:
        return self.priority or self.category.default_priority

    def as_record(self) -> dict:
        """The fields a case and a call both store, as the model fields name them."""
        return {
            "channel": self.channel,
            "description": self.description,
            "category": self.category,
            "grid": self.grid,
            "priority": self.case_priority,
            "address": self.address,
            "caller_name": self.caller_name,
            "caller_phone": self.caller_phone,
            "caller_confidential": self.caller_confidential,
        }


# No savepoint inside a caller's transaction (two statements per call logged): nothing catches
# a failure here and goes on, so the caller's whole transaction fails with it.
@transaction.atomic(savepoint=False)
def case_open(*, actor, details: CallDetails, number=None) -> Case:
    """Open a case in `registered` with its first event. Every case has a number, a grid and a
    category from the moment it exists: `number` if the caller took one (`case_number_next`),
    else the next."""
    case = Case.objects.create(
        number=number or case_number_next(),
        latitude=details.latitude,
        longitude=details.longitude,
        title=title_from(details.description),
        created_by=actor,
        **details.as_record(),
    )
    lifecycle.record_open(case=case, actor=actor, data={"channel": details.channel})
    case_photos_add(case=case, actor=actor, images=details.photos)
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


def keyword_hits(text, category) -> int:
    """How many of the category's keywords occur in `text`: the keyword signal, here and in the
    learned suggestions (`suggestions.selectors`)."""
    return sum(1 for word in category.keyword_list if word in text)


def categories_suggested(text, *, limit=5) -> list[Category]:
    """Second-level categories whose keywords occur in `text`, the most matches first."""
    if not text.strip():
        return []
    scored = []
    for category in Category.objects.filter(is_active=True, parent__isnull=False).exclude(keywords=""):
        hits = keyword_hits(text, category)
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
