from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from cases.models import Category
from cases.validators import validate_photos


class CategorySerializer(serializers.ModelSerializer):
    parent = serializers.CharField(source="parent.code", default=None, allow_null=True, read_only=True)

    class Meta:
        model = Category
        fields = ["code", "name", "parent", "default_priority", "keywords"]


class PhotosField(serializers.ListField):
    """Uploaded photos in an API body, with the checks every door shares (how many, how large,
    real image content): the API's twin of `cases.forms.PhotosField`."""

    def __init__(self, **kwargs):
        kwargs.setdefault("child", serializers.ImageField())
        kwargs.setdefault("required", False)
        kwargs.setdefault("default", list)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        photos = super().to_internal_value(data)
        try:
            validate_photos(photos)
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.messages) from None
        return photos
