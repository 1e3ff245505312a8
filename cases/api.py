from rest_framework import viewsets

from cases.models import Category
from cases.serializers import CategorySerializer


class CategoryViewSet(viewsets.ReadOnlyModelViewSet):
    """The active category tree: `code`, `name`, `parent` (code), default priority, keywords.
    Paginated like every list, though under a hundred rows fit on one page."""

    serializer_class = CategorySerializer
    lookup_field = "code"

    def get_queryset(self):
        return Category.objects.filter(is_active=True).select_related("parent").order_by("code")
