"""Output serializers over the computation's dataclasses, shared by the gradebook endpoints."""

from __future__ import annotations

from rest_framework import serializers

from grading.computation import plain
from grading.models import RegradeRequest, ScoreHistory


class PlainDecimalField(serializers.DecimalField):
    """A decimal as a string written plainly: "8", "6.4", never "8.000" or "1E+1"."""

    def __init__(self, **kwargs):
        super().__init__(max_digits=None, decimal_places=None, **kwargs)

    def to_representation(self, value):
        return plain(value)


def decimal(**kwargs) -> serializers.DecimalField:
    return PlainDecimalField(**kwargs)


class ItemResultOutput(serializers.Serializer):
    item_id = serializers.IntegerField(source="item.id")
    item = serializers.CharField(source="item.name")
    component = serializers.CharField(source="item.component")
    state = serializers.CharField()
    earned = decimal(allow_null=True)
    possible = decimal()
    raw_points = decimal(allow_null=True)
    penalty = decimal()
    days_late = serializers.IntegerField()
    due_at = serializers.DateTimeField(allow_null=True)
    overridden = serializers.BooleanField()


class ComponentOutput(serializers.Serializer):
    name = serializers.CharField(source="spec.name")
    points = decimal(source="spec.points")
    drop_lowest = serializers.IntegerField(source="spec.drop_lowest")
    share = decimal()
    earned = decimal()
    possible = decimal()
    items = ItemResultOutput(many=True)


class BreakdownOutput(serializers.Serializer):
    scheme_version = serializers.IntegerField(source="scheme.version")
    components = ComponentOutput(many=True)
    total = decimal()
    rounded_total = decimal()
    letter = serializers.CharField()
    only_published = serializers.BooleanField()


class GradebookRowOutput(serializers.Serializer):
    username = serializers.CharField(source="student.username")
    full_name = serializers.CharField(source="student.get_full_name")
    breakdown = BreakdownOutput()


class NeedOutput(serializers.Serializer):
    letter = serializers.CharField()
    percent = decimal(allow_null=True, help_text="null: out of reach")
    secured = serializers.BooleanField()


class HistoryOutput(serializers.ModelSerializer):
    changed_by = serializers.CharField(source="changed_by.username", allow_null=True, default=None)

    class Meta:
        model = ScoreHistory
        fields = ["changed_at", "changed_by", "source", "reason", "old", "new"]


class RegradeOutput(serializers.ModelSerializer):
    item_id = serializers.IntegerField(source="score.item_id")
    item = serializers.CharField(source="score.item.name")
    username = serializers.CharField(source="score.student.username")

    class Meta:
        model = RegradeRequest
        fields = [
            "id",
            "item_id",
            "item",
            "username",
            "message",
            "status",
            "reply",
            "created_at",
            "resolved_at",
        ]
