from rest_framework import serializers

from cases.models import Category


class CategorySerializer(serializers.ModelSerializer):
    parent = serializers.CharField(source="parent.code", default=None, allow_null=True, read_only=True)

    class Meta:
        model = Category
        fields = ["code", "name", "parent", "default_priority", "keywords"]
