"""Staff endpoints of the regrade queue: list, accept with a new score, decline."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from grading import selectors
from grading.api.common import CourseApi
from grading.api.serializers import RegradeOutput
from grading.models import RegradeRequest
from grading.services import regrades


class RegradeQueueApi(CourseApi):
    course_resource = "gradebook"

    @extend_schema(responses=RegradeOutput(many=True), summary="All regrade requests")
    def get(self, request, course_code: str):
        every = selectors.regrade_request_list(course=self.course)
        return Response(RegradeOutput(every, many=True).data)


class AcceptInput(serializers.Serializer):
    points = serializers.DecimalField(max_digits=8, decimal_places=3)
    reply = serializers.CharField(max_length=4000)


class DeclineInput(serializers.Serializer):
    reply = serializers.CharField(max_length=4000)


class RegradeApi(CourseApi):
    course_resource = "gradebook"

    def regrade(self, request_id: int) -> RegradeRequest:
        return get_object_or_404(RegradeRequest, pk=request_id, score__item__course=self.course)


class RegradeAcceptApi(RegradeApi):
    @extend_schema(request=AcceptInput, responses=RegradeOutput, summary="Accept with a new score")
    def post(self, request, course_code: str, request_id: int):
        data = AcceptInput(data=request.data)
        data.is_valid(raise_exception=True)
        answered = regrades.regrade_request_accept(
            request=self.regrade(request_id), by=request.user, **data.validated_data
        )
        return Response(RegradeOutput(answered).data)


class RegradeDeclineApi(RegradeApi):
    @extend_schema(request=DeclineInput, responses=RegradeOutput, summary="Decline, with a reply")
    def post(self, request, course_code: str, request_id: int):
        data = DeclineInput(data=request.data)
        data.is_valid(raise_exception=True)
        answered = regrades.regrade_request_decline(
            request=self.regrade(request_id), by=request.user, **data.validated_data
        )
        return Response(RegradeOutput(answered).data)
