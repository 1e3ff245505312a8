"""Open311 GeoReport v2 (docs/integrations.md): each resource with its format as the URL's suffix,
as the standard writes them (`services.json`, `requests/<id>.xml`). Any other suffix is 404."""

from django.urls import path, register_converter

from integrations import open311


class FormatConverter:
    regex = "json|xml"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


register_converter(FormatConverter, "open311_format")

app_name = "open311"
urlpatterns = [
    path("services.<open311_format:format>", open311.service_list, name="services"),
    path("services/<str:service_code>.<open311_format:format>", open311.service_definition, name="service"),
    path("requests.<open311_format:format>", open311.service_requests, name="requests"),
    path("requests/<str:service_request_id>.<open311_format:format>", open311.service_request, name="request"),
    path("tokens/<str:token>.<open311_format:format>", open311.request_token, name="token"),
]
