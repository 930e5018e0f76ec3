"""A student's own endpoints: their grades, their scores' history, their regrade requests."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from grading import selectors
from grading.api.common import CourseApi
from grading.api.serializers import BreakdownOutput, HistoryOutput, NeedOutput, RegradeOutput
from grading.services import regrades


class MyGradesOutput(serializers.Serializer):
    breakdown = BreakdownOutput()
    needs = NeedOutput(many=True)
    released_with_scheme_version = serializers.IntegerField(allow_null=True)


class MyGradesApi(CourseApi):
    course_resource = "own_grades"

    @extend_schema(responses=MyGradesOutput, summary="Your own grades (published items only)")
    def get(self, request, course_code: str):
        grades = selectors.student_grades(course=self.course, student=request.user)
        if grades is None:
            raise NotFound(f"{self.course.code} has no grading scheme yet.")
        body = {
            "breakdown": grades.breakdown,
            "needs": grades.needs,
            "released_with_scheme_version": grades.release.scheme.version
            if grades.release
            else None,
        }
        return Response(MyGradesOutput(body).data)


class MyScoreHistoryApi(CourseApi):
    course_resource = "own_grades"

    @extend_schema(responses=HistoryOutput(many=True), summary="The history of your own score")
    def get(self, request, course_code: str, item_id: int):
        score = selectors.student_own_score(
            course=self.course, student=request.user, item_id=item_id
        )
        return Response(HistoryOutput(selectors.score_history(score=score), many=True).data)


class RegradeInput(serializers.Serializer):
    item_id = serializers.IntegerField()
    message = serializers.CharField(max_length=4000)


class MyRegradesApi(CourseApi):
    course_resource = "own_grades"

    @extend_schema(responses=RegradeOutput(many=True), summary="Your regrade requests")
    def get(self, request, course_code: str):
        mine = selectors.regrade_request_list(course=self.course, student=request.user)
        return Response(RegradeOutput(mine, many=True).data)

    @extend_schema(
        request=RegradeInput, responses={201: RegradeOutput}, summary="Ask for a regrade"
    )
    def post(self, request, course_code: str):
        data = RegradeInput(data=request.data)
        data.is_valid(raise_exception=True)
        score = selectors.student_own_score(
            course=self.course, student=request.user, item_id=data.validated_data["item_id"]
        )
        made = regrades.regrade_request_create(
            score=score, student=request.user, message=data.validated_data["message"]
        )
        return Response(RegradeOutput(made).data, status=status.HTTP_201_CREATED)
