"""Pickers: one way to choose a unit, a place or a category wherever one is chosen (the console,
吹哨, supervision's reassignment, 改网格, the filters of the case list and the queue).

A person types a name, its pinyin initials (`jsq` finds 金山社区), its full pinyin or a code; the
search endpoint (`routing:pick`) answers the options, each with its full path (解放街道 ›
金山社区), among what that person may see: `units_for`, `regions_for`, the active categories.
The value submitted stays the code, so the services and the API are unchanged; a form posted
with only a typed text (no JavaScript, or nothing picked) resolves it here: a code, a name or a
path that means exactly one thing is taken, anything else is a form error listing what it could
mean.

The pinyin is computed in the process, memoised per name, not stored in a column: units, places
and categories arrive through half a dozen bulk loaders (the demo, the generator, the boundary
import, the volunteer teams' spreadsheets) and the admin, and a column one of them forgot to fill
would make things silently unfindable by their initials. The sets are small (hundreds of units,
a few thousand places, about seventy categories): one query reads the ones in scope, and the
first search of a process computes the pinyin of every name once (well under a second).
"""

import functools
from dataclasses import dataclass

import django_filters
from django import forms
from django.contrib.auth.models import AnonymousUser
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from pypinyin import lazy_pinyin

from cases.models import Category
from grids.models import Region
from routing.dispatch import NOT_LEAD_KINDS
from routing.selectors import regions_for
from units.models import Unit
from units.selectors import postings_for, region_prefixes_for, units_for

SEPARATOR = " › "
OPTIONS_SHOWN = 10
CHOICES_NAMED = 8  # how many meanings an ambiguous text's error lists


@dataclass(frozen=True)
class Option:
    """One thing a picker offers: its code (the value submitted), its name and its path."""

    code: str
    name: str
    path: tuple  # the names above it, from the top down, then its own
    note: str = ""  # what kind of thing it is, when the path does not say (a unit's kind)

    @property
    def label(self) -> str:
        return SEPARATOR.join(self.path)

    def describe(self) -> str:
        return f"{self.label}（{self.code}）"


@functools.lru_cache(maxsize=50_000)
def _spellings(name: str) -> tuple[str, str]:
    """The name's pinyin initials and its full pinyin, lower case, without spaces: 金山社区 →
    ("jssq", "jinshanshequ"). Digits and Latin letters stay as they are."""
    # One conversion (the phrase lookup is the slow part); a run the name holds as it is (a
    # digit, a Latin word) is kept whole, a syllable gives its first letter.
    syllables = lazy_pinyin(name, errors="default")
    initials = "".join(part if part in name else part[:1] for part in syllables).lower()
    full = "".join(syllables).lower()
    return initials.replace(" ", ""), full.replace(" ", "")


def _is_subsequence(text: str, name: str) -> bool:
    # 区城管局 in 区城市管理综合行政执法局: the characters of a common short name, in order.
    letters = iter(name)
    return all(char in letters for char in text)


def _score(text: str, option: Option) -> int:
    """How well `text` (stripped, lower case) matches: 0 for not at all; 100 for exactly."""
    name = option.name.lower()
    code = option.code.lower()
    compact = text.replace(" ", "").replace("›", "")
    if text in (code, name) or compact == "".join(option.path).lower():
        return 100
    if code.startswith(text):
        return 80
    if name.startswith(text):
        return 70
    if text in name:
        return 60
    if compact.isascii() and compact.isalnum():
        initials, full = _spellings(option.name)
        if initials.startswith(compact):
            return 65
        if full.startswith(compact):
            return 55
        if compact in initials or compact in full:
            return 40
        if initials[:1] == compact[:1] and _is_subsequence(compact, initials):
            # jsq for 金山社区 (jssq): the initials people say, skipping one of 社区's.
            return 25
        return 0
    if len(compact) >= 2 and _is_subsequence(compact, name):
        return 30
    return 0


class Picker:
    """What one kind of picker offers a person (`options`) and the label of a code (`label_of`)."""

    noun = ""

    def __init__(self, only: str = ""):
        self.only = only

    def options(self, user) -> list[Option]:
        raise NotImplementedError

    def search(self, user, text: str, limit: int = OPTIONS_SHOWN) -> list[Option]:
        return [option for _score, option in self._ranked(self.options(user), text)][:limit]

    @staticmethod
    def _ranked(options, text):
        text = text.strip().lower()
        if not text:
            return []
        scored = [(_score(text, option), option) for option in options]
        return sorted(
            ((score, option) for score, option in scored if score),
            key=lambda pair: (-pair[0], len(pair[1].name), pair[1].code),
        )

    def resolve(self, user, text: str, options: list[Option] | None = None) -> Option:
        """The one thing `text` means, or a ValidationError saying what it could mean."""
        ranked = self._ranked(self.options(user) if options is None else options, text)
        exact = [option for score, option in ranked if score == 100]
        meanings = exact or [option for _score, option in ranked]
        if len(meanings) == 1:
            return meanings[0]
        names = {"text": text.strip(), "thing": self.noun}
        if not meanings:
            raise forms.ValidationError(_("No %(thing)s matches “%(text)s”.") % names, code="unknown")
        shown = "；".join(option.describe() for option in meanings[:CHOICES_NAMED])
        if len(meanings) > CHOICES_NAMED:
            shown += "；…"
        raise forms.ValidationError(
            _("“%(text)s” could mean: %(options)s. Pick one from the list.") % {**names, "options": shown},
            code="ambiguous",
        )

    def label_of(self, user, code: str) -> str:
        option = next((option for option in self.options(user) if option.code == code), None)
        return option.label if option else code


class UnitPicker(Picker):
    """Units the person may see (`units_for`); `only="lead"`: those that may lead a case."""

    noun = gettext_lazy("unit")

    def options(self, user):
        units = units_for(user).select_related("region__parent").order_by("kind", "code")
        if self.only == "lead":
            units = units.exclude(kind__in=NOT_LEAD_KINDS)
        options = []
        for unit in units:
            if unit.kind == Unit.Kind.COMMITTEE and unit.region and unit.region.parent:
                # A committee's street says which of two 十里河社区 it is.
                options.append(Option(unit.code, unit.name, (unit.region.parent.name, unit.name)))
            else:
                options.append(Option(unit.code, unit.name, (unit.name,), note=unit.get_kind_display()))
        return options


class PlacePicker(Picker):
    """Streets, communities and grids the person may see (`regions_for`); `only` names levels
    (`grid`, or `street,community`)."""

    noun = gettext_lazy("place")

    @staticmethod
    def _places(user):
        if region_prefixes_for(user) == [] and postings_for(user).units:
            # A department's staff cover no area, but their cases come from the whole district.
            return Region.objects.all()
        return regions_for(user)

    def options(self, user):
        levels = [level for level in self.only.split(",") if level in Region.Level.values]
        rows = list(self._places(user).values_list("code", "name", "level").order_by("code"))
        names = {code: name for code, name, _level in rows}
        options = []
        for code, name, level in rows:
            if level == Region.Level.DISTRICT or (levels and level not in levels):
                continue
            # The district is above everything: the path starts at the street.
            above = [names.get(code[:n], "") for n in (9, 12) if n < len(code)]
            options.append(Option(code, name, (*filter(None, above), name)))
        return options

    def label_of(self, user, code):
        # One place and the ones above it, not every place the person may see.
        wanted = [code[:n] for n in (9, 12, 15) if n <= len(code)]
        names = dict(self._places(user).filter(code__in=wanted).values_list("code", "name"))
        if code not in names:
            return code
        return SEPARATOR.join(names[above] for above in wanted if above in names)


class CategoryPicker(Picker):
    """The active categories, classes and their kinds; `only="kind"`: kinds only (what a case is
    given)."""

    noun = gettext_lazy("category")

    def options(self, user):
        categories = Category.objects.filter(is_active=True).select_related("parent").order_by("code")
        if self.only == "kind":
            categories = categories.filter(parent__isnull=False)
        return [Option(c.code, c.name, (c.parent.name, c.name) if c.parent_id else (c.name,)) for c in categories]


PICKERS = {"unit": UnitPicker, "place": PlacePicker, "category": CategoryPicker}


def picker(kind: str, only: str = "") -> Picker:
    return PICKERS[kind](only)


@dataclass(frozen=True)
class Typed:
    """What a picker's two inputs sent: the code (hidden, set when an option is picked) and the
    text in the box (None when the request had no box: the API, a link from another page)."""

    code: str
    text: str | None


class PickerWidget(forms.Widget):
    """The hidden code and the visible box (`<name>_text`), searched through `routing:pick`."""

    def __init__(self, kind, only="", attrs=None):
        super().__init__(attrs)
        self.kind, self.only = kind, only
        self.user = None

    def value_from_datadict(self, data, files, name):
        return Typed(code=(data.get(name) or "").strip(), text=data.get(f"{name}_text"))

    def value_omitted_from_data(self, data, files, name):
        return name not in data and f"{name}_text" not in data

    def render(self, name, value, attrs=None, renderer=None):
        attrs = self.build_attrs(self.attrs, attrs)
        code, text = "", ""
        if isinstance(value, Typed):
            code = value.code
            text = value.text if value.text is not None else self._label(value.code)
        elif value:
            code, text = str(value), self._label(str(value))
        return render_to_string(
            "routing/_picker.html",
            {
                "name": name,
                "id": attrs.get("id") or f"id_{name}",
                "kind": self.kind,
                "only": self.only,
                "code": code,
                "text": text,
                "input_class": attrs.get("class", "form-control"),
                "placeholder": attrs.get("placeholder", ""),
            },
        )

    def _label(self, code):
        # A code with no text (a link from a home page): its label, one query, only then.
        return picker(self.kind, self.only).label_of(self.user, code) if code and self.user is not None else code


class PickerField(forms.CharField):
    """A unit, place or category: cleans to its code. The code as sent is kept when the request
    had no text box (the API, links); a text is resolved in the person's scope (`scope_to`)."""

    def __init__(self, kind, *, only="", codes_as_sent=False, **kwargs):
        # codes_as_sent: a code sent without its box (the API's filters, links) is used as it is,
        # a prefix perhaps (a class of categories, the district); a form resolves it like a text.
        self.kind, self.only, self.codes_as_sent = kind, only, codes_as_sent
        self.user = None
        kwargs.setdefault("widget", PickerWidget(kind, only))
        super().__init__(**kwargs)

    def scope_to(self, user):
        self.user = self.widget.user = user if user is not None else AnonymousUser()

    def to_python(self, value):
        if not isinstance(value, Typed):
            return super().to_python(value)
        if value.text is None and self.codes_as_sent:
            return value.code
        text = (value.text if value.text is not None else value.code).strip()
        if not text:
            return ""
        chosen = picker(self.kind, self.only)
        options = chosen.options(self.user or AnonymousUser())
        if value.code:
            # Picked from the list: the box still shows what was picked.
            picked = next((option for option in options if option.code == value.code), None)
            if picked and text in (picked.name, picked.label, picked.code):
                return picked.code
        return chosen.resolve(self.user, text, options).code


def scope_pickers(form, user):
    """Every picker of `form` searches and resolves in `user`'s scope."""
    for field in form.fields.values():
        if isinstance(field, PickerField):
            field.scope_to(user)
    return form


class PickerFilter(django_filters.CharFilter):
    """A filter on a unit, place or category, picked by name on the page; the API's parameter
    keeps taking the code (a prefix, for classes of categories and areas)."""

    field_class = PickerField

    def __init__(self, kind, *, only="", **kwargs):
        widget = PickerWidget(kind, only, attrs={"class": "form-control form-control-sm"})
        super().__init__(kind=kind, only=only, codes_as_sent=True, widget=widget, **kwargs)


class ScopedPickers:
    """Mixed into a filter set: its pickers search and resolve among what the request's person
    may see (the page and the API pass the request)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        user = getattr(self.request, "user", None)
        for one in self.filters.values():
            if isinstance(one, PickerFilter):
                one.field.scope_to(user)
