"""Staff endpoints over the whole gradebook: rows, CSV import, items, team scores, release."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from courseapp.courses.models import Team
from grading import selectors
from grading.api.common import CourseApi, _gradebook_or_404
from grading.api.serializers import GradebookRowOutput
from grading.models import GradedItem, ItemKind
from grading.services import schemes, scores
from grading.services.csv_import import gradebook_import
from grading.services.items import graded_item_create, graded_item_publish


class GradebookApi(CourseApi):
    course_resource = "gradebook"

    @extend_schema(responses=GradebookRowOutput(many=True), summary="Every student's breakdown")
    def get(self, request, course_code: str):
        book = _gradebook_or_404(self.course)
        rows = [{"student": s, "breakdown": b} for s, b in book.rows()]
        return Response(GradebookRowOutput(rows, many=True).data)


class ImportInput(serializers.Serializer):
    file = serializers.FileField(required=False)
    csv = serializers.CharField(required=False, trim_whitespace=False)
    dry_run = serializers.BooleanField(default=False)

    def validate(self, data):
        if ("file" in data) == ("csv" in data):
            raise serializers.ValidationError("Send either a file or csv text.")
        return data


class ImportOutput(serializers.Serializer):
    applied = serializers.BooleanField()
    unchanged = serializers.IntegerField()
    errors = serializers.ListField(child=serializers.DictField())
    changes = serializers.ListField(child=serializers.DictField())


class GradebookImportApi(CourseApi):
    course_resource = "gradebook"
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    @extend_schema(request=ImportInput, responses=ImportOutput, summary="Import scores from CSV")
    def post(self, request, course_code: str):
        data = ImportInput(data=request.data)
        data.is_valid(raise_exception=True)
        content = data.validated_data.get("csv")
        if content is None:
            content = data.validated_data["file"].read()
        report = gradebook_import(
            course=self.course,
            data=content,
            by=request.user,
            dry_run=data.validated_data["dry_run"],
        )
        body = {
            "applied": report.applied,
            "unchanged": report.unchanged,
            "errors": [{"line": e.line, "message": e.message} for e in report.errors],
            "changes": [
                {
                    "line": c.line,
                    "username": c.student.username,
                    "item": c.item.name,
                    "old": c.old,
                    "new": c.new,
                }
                for c in report.changes
            ],
        }
        return Response(body, status=status.HTTP_400_BAD_REQUEST if report.errors else 200)


class ItemOutput(serializers.ModelSerializer):
    component = serializers.CharField(source="component.name")

    class Meta:
        model = GradedItem
        fields = [
            "id",
            "name",
            "component",
            "kind",
            "max_points",
            "due_at",
            "published",
            "never_drop",
            "team_graded",
        ]


class ItemInput(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    component = serializers.CharField()
    max_points = serializers.DecimalField(max_digits=8, decimal_places=3, min_value=0)
    kind = serializers.ChoiceField(choices=ItemKind.choices, default=ItemKind.MANUAL)
    due_at = serializers.DateTimeField(required=False, allow_null=True)
    published = serializers.BooleanField(default=False)
    never_drop = serializers.BooleanField(default=False)
    team_graded = serializers.BooleanField(default=False)


class ItemListApi(CourseApi):
    course_resource = "gradebook"

    @extend_schema(responses=ItemOutput(many=True), summary="Graded items")
    def get(self, request, course_code: str):
        items = selectors.graded_item_list(course=self.course)
        return Response(ItemOutput(items, many=True).data)

    @extend_schema(request=ItemInput, responses={201: ItemOutput}, summary="Add a graded item")
    def post(self, request, course_code: str):
        data = ItemInput(data=request.data)
        data.is_valid(raise_exception=True)
        item = graded_item_create(course=self.course, **data.validated_data)
        return Response(ItemOutput(item).data, status=status.HTTP_201_CREATED)


class PublishInput(serializers.Serializer):
    published = serializers.BooleanField()


class ItemPublishApi(CourseApi):
    course_resource = "gradebook"

    @extend_schema(request=PublishInput, responses=ItemOutput, summary="Publish or hide an item")
    def post(self, request, course_code: str, item_id: int):
        item = get_object_or_404(GradedItem, pk=item_id, course=self.course)
        data = PublishInput(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(ItemOutput(graded_item_publish(item=item, **data.validated_data)).data)


class TeamScoreInput(serializers.Serializer):
    team = serializers.IntegerField()
    points = serializers.DecimalField(max_digits=8, decimal_places=3)
    reason = serializers.CharField(max_length=300, required=False, default="")


class TeamScoreApi(CourseApi):
    course_resource = "gradebook"

    @extend_schema(request=TeamScoreInput, responses={204: None}, summary="Score a project team")
    def post(self, request, course_code: str, item_id: int):
        item = get_object_or_404(GradedItem, pk=item_id, course=self.course)
        data = TeamScoreInput(data=request.data)
        data.is_valid(raise_exception=True)
        team = get_object_or_404(Team, pk=data.validated_data["team"], course=self.course)
        scores.team_score_set(
            item=item,
            team=team,
            points=data.validated_data["points"],
            by=request.user,
            reason=data.validated_data["reason"],
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class ReleaseOutput(serializers.Serializer):
    scheme_version = serializers.IntegerField(source="scheme.version")
    released_at = serializers.DateTimeField()


class GradesReleaseApi(CourseApi):
    course_resource = "gradebook"

    @extend_schema(request=None, responses={201: ReleaseOutput}, summary="Release final grades")
    def post(self, request, course_code: str):
        release = schemes.grades_release(course=self.course, released_by=request.user)
        return Response(ReleaseOutput(release).data, status=status.HTTP_201_CREATED)
