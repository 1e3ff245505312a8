from django import forms
from django.utils.translation import gettext_lazy as _

from cases.models import Category
from grids.models import Region
from routing.pickers import PickerField


class PlaceForm(forms.Form):
    """A dispatcher gives a held request the category and the grid it lacked, each picked by
    name, pinyin initials or code (routing/pickers.py)."""

    category = PickerField("category", only="kind", label=_("Category"), max_length=100)
    grid = PickerField("place", only="grid", label=_("Grid"), max_length=100)

    def clean_category(self):
        code = self.cleaned_data["category"].strip()
        category = Category.objects.filter(code=code, is_active=True).first()
        if category is None:
            raise forms.ValidationError(_("Choose a category from the list."))
        return category

    def clean_grid(self):
        code = self.cleaned_data["grid"].strip()
        grid = Region.objects.filter(code=code, level=Region.Level.GRID).first()
        if grid is None:
            raise forms.ValidationError(_("Choose a grid from the list."))
        return grid


class RefuseForm(forms.Form):
    reason = forms.CharField(label=_("Why it is refused"), max_length=300)
