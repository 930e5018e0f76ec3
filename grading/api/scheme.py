"""The grading scheme: read it, preview a change, add a version."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from grading import selectors
from grading.api.common import CourseApi
from grading.api.serializers import PlainDecimalField
from grading.services import schemes


class SchemeInput(serializers.Serializer):
    components = serializers.ListField(child=serializers.DictField())
    letter_cutoffs = serializers.ListField(child=serializers.DictField())
    late_policy = serializers.DictField(required=False)
    rounding = serializers.ChoiceField(choices=["half_up", "none"], default="half_up")
    note = serializers.CharField(max_length=300, required=False, default="")


class SchemeOutput(serializers.Serializer):
    version = serializers.IntegerField()
    components = serializers.ListField(child=serializers.DictField())
    letter_cutoffs = serializers.ListField(child=serializers.DictField())
    late_policy = serializers.DictField()
    rounding = serializers.CharField()
    note = serializers.CharField()
    created_at = serializers.DateTimeField()


class LetterChangeOutput(serializers.Serializer):
    username = serializers.CharField(source="student.username")
    old_total = PlainDecimalField()
    old_letter = serializers.CharField()
    new_total = PlainDecimalField()
    new_letter = serializers.CharField()


class SchemeApi(CourseApi):
    course_resource = "grading_scheme"

    @extend_schema(responses=SchemeOutput, summary="The current grading scheme")
    def get(self, request, course_code: str):
        scheme = selectors.grading_scheme_current(course=self.course)
        if scheme is None:
            raise NotFound(f"{self.course.code} has no grading scheme yet.")
        return Response(SchemeOutput(scheme).data)

    @extend_schema(request=SchemeInput, responses={201: SchemeOutput}, summary="Add a version")
    def post(self, request, course_code: str):
        data = SchemeInput(data=request.data)
        data.is_valid(raise_exception=True)
        scheme = schemes.grading_scheme_create(
            course=self.course, created_by=request.user, **data.validated_data
        )
        return Response(SchemeOutput(scheme).data, status=status.HTTP_201_CREATED)


class SchemePreviewApi(CourseApi):
    course_resource = "grading_scheme"

    @extend_schema(
        request=SchemeInput,
        responses=LetterChangeOutput(many=True),
        summary="Whose letter would change with this scheme",
    )
    def post(self, request, course_code: str):
        data = SchemeInput(data=request.data)
        data.is_valid(raise_exception=True)
        arguments = {k: v for k, v in data.validated_data.items() if k != "note"}
        changes = schemes.grading_scheme_preview(
            course=self.course, data=schemes.scheme_validate(**arguments)
        )
        return Response(LetterChangeOutput(changes, many=True).data)
