"""The API's pages (`REST_FRAMEWORK["DEFAULT_PAGINATION_CLASS"]`), in a module of its own: DRF
imports it while its own views are loading, so it must import nothing that imports them."""

from rest_framework.pagination import PageNumberPagination


class Pagination(PageNumberPagination):
    """50 rows a page; `?page_size=` up to 500 for integrations that page through everything."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
