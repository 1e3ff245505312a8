from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Region(models.Model):
    """A place at one of four levels: the district, a street, a community or village, a grid.

    Codes follow the national rule: 6 digits for the county (210111), +3 for the street, +3 for the
    community or village, +3 for the grid. Every code starts with its parent's code, so "everything
    under 解放街道" is `code LIKE '210111001%'`, answered by an index, never by walking the tree.
    """

    class Level(models.TextChoices):
        DISTRICT = "district", _("district")
        STREET = "street", _("street")
        COMMUNITY = "community", _("community or village")
        GRID = "grid", _("grid")

    class CommunityKind(models.TextChoices):
        RESIDENTS = "residents", _("residents' committee")
        VILLAGERS = "villagers", _("villagers' committee")

    CODE_LENGTHS = {Level.DISTRICT: 6, Level.STREET: 9, Level.COMMUNITY: 12, Level.GRID: 15}

    code = models.CharField(_("code"), max_length=15, unique=True)
    name = models.CharField(_("name"), max_length=100)
    level = models.CharField(_("level"), max_length=10, choices=Level.choices)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent"), on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    community_kind = models.CharField(
        _("committee kind"), max_length=10, choices=CommunityKind.choices, blank=True, default=""
    )
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    boundary = models.JSONField(_("boundary (GeoJSON)"), null=True, blank=True)
    # Streets', communities' and grids' real boundaries are not published: until the district's GIS
    # data is imported they are generated (grids/boundaries.py), and every map says so.
    boundary_generated = models.BooleanField(_("boundary generated"), default=False)
    area_km2 = models.FloatField(_("area (km²)"), null=True, blank=True)

    class Meta:
        verbose_name = _("region")
        verbose_name_plural = _("regions")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(level="district", code__regex=r"^[0-9]{6}$", parent__isnull=True)
                    | Q(level="street", code__regex=r"^[0-9]{9}$", parent__isnull=False)
                    | Q(level="community", code__regex=r"^[0-9]{12}$", parent__isnull=False)
                    | Q(level="grid", code__regex=r"^[0-9]{15}$", parent__isnull=False)
                ),
                name="region_code_fits_level",
            ),
            models.CheckConstraint(
                condition=Q(level="community") | Q(community_kind=""), name="region_kind_only_for_communities"
            ),
        ]
        indexes = [
            # The unique index on code cannot serve LIKE 'prefix%' under a non-C collation;
            # this one can, and every subtree question is such a prefix.
            models.Index(fields=["code"], name="region_code_prefix", opclasses=["varchar_pattern_ops"]),
            models.Index(fields=["level", "code"], name="region_level_code"),
        ]

    def __str__(self):
        return self.name

    @classmethod
    def level_for_code(cls, code):
        """The level a code of this length belongs to, or None."""
        return {length: level for level, length in cls.CODE_LENGTHS.items()}.get(len(code))

    def ancestor_codes(self):
        """The codes of the places above this one, from the district down."""
        return [self.code[:n] for n in (6, 9, 12) if n < len(self.code)]


class BoundarySet(models.Model):
    """One row: which version of the boundaries is in force. Every generation or import moves it
    on, so each process's point-to-grid index and the maps' caches know to rebuild."""

    version = models.PositiveIntegerField(_("version"), default=0)
    changed_at = models.DateTimeField(_("changed at"), null=True, blank=True)
    note = models.CharField(_("what changed"), max_length=200, blank=True, default="")

    class Meta:
        verbose_name = _("boundary set")
        verbose_name_plural = _("boundary sets")

    def __str__(self):
        return f"v{self.version}"

    @classmethod
    def current(cls) -> int:
        return cls.objects.filter(pk=1).values_list("version", flat=True).first() or 0

    @classmethod
    def stamp(cls) -> tuple:
        """The version and when it was made: what a cache of shapes is keyed by."""
        return cls.objects.filter(pk=1).values_list("version", "changed_at").first() or (0, None)


class GridPosting(models.Model):
    """A grid worker (网格员) posted to a grid; a worker may cover several grids."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("grid worker"), on_delete=models.CASCADE, related_name="grid_postings"
    )
    grid = models.ForeignKey(
        Region,
        verbose_name=_("grid"),
        on_delete=models.PROTECT,
        related_name="postings",
        limit_choices_to={"level": Region.Level.GRID},
    )
    created_at = models.DateTimeField(_("posted at"), auto_now_add=True)

    class Meta:
        verbose_name = _("grid posting")
        verbose_name_plural = _("grid postings")
        constraints = [models.UniqueConstraint(fields=["user", "grid"], name="gridposting_once_per_grid")]

    def __str__(self):
        return f"{self.user} @ {self.grid}"
