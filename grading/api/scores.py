"""Staff endpoints for one score: read it with its history, and one endpoint per change."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from grading import selectors
from grading.api.common import CourseApi, _gradebook_or_404
from grading.api.serializers import HistoryOutput, ItemResultOutput
from grading.computation import Status
from grading.models import GradedItem, Score, Source
from grading.services import scores


class ScoreOutput(serializers.Serializer):
    username = serializers.CharField(source="score.student.username")
    status = serializers.CharField(source="score.status")
    source = serializers.CharField(source="score.source")
    raw_points = serializers.DecimalField(
        max_digits=8, decimal_places=3, source="score.raw_points", allow_null=True
    )
    override_points = serializers.DecimalField(
        max_digits=8, decimal_places=3, source="score.override_points", allow_null=True
    )
    override_reason = serializers.CharField(source="score.override_reason")
    result = ItemResultOutput()
    history = HistoryOutput(many=True)


class ScoreApi(CourseApi):
    """Base: the item and student from the URL, and the score as the answer."""

    course_resource = "gradebook"

    def target(self, item_id: int, username: str):
        item = get_object_or_404(GradedItem, pk=item_id, course=self.course)
        return item, selectors.course_student(course=self.course, username=username)

    def respond(self, item, student) -> Response:
        score = get_object_or_404(Score, item=item, student=student)
        book = _gradebook_or_404(self.course, students=[student])
        body = {
            "score": score,
            "result": book.breakdowns[student.pk].item(item.pk),
            "history": selectors.score_history(score=score),
        }
        return Response(ScoreOutput(body).data)

    def existing(self, item, student) -> Score:
        return get_object_or_404(Score, item=item, student=student)


class ScoreDetailApi(ScoreApi):
    @extend_schema(responses=ScoreOutput, summary="A score, how it counts, and its history")
    def get(self, request, course_code: str, item_id: int, username: str):
        return self.respond(*self.target(item_id, username))


class ScoreChangeApi(ScoreApi):
    """One change to a score: parse ``input_class``, call ``change``, answer with the score."""

    input_class: type[serializers.Serializer]

    def post(self, request, course_code: str, item_id: int, username: str):
        item, student = self.target(item_id, username)
        data = self.input_class(data=request.data)
        data.is_valid(raise_exception=True)
        self.change(item, student, data.validated_data)
        return self.respond(item, student)

    def change(self, item, student, data: dict) -> None:
        raise NotImplementedError


class PointsInput(serializers.Serializer):
    points = serializers.DecimalField(max_digits=8, decimal_places=3)
    reason = serializers.CharField(max_length=300, required=False, default="")


class ScoreSetApi(ScoreChangeApi):
    input_class = PointsInput

    @extend_schema(request=PointsInput, responses=ScoreOutput, summary="Enter a score")
    def post(self, request, course_code: str, item_id: int, username: str):
        return super().post(request, course_code, item_id, username)

    def change(self, item, student, data):
        scores.score_set(
            item=item,
            student=student,
            points=data["points"],
            by=self.request.user,
            source=Source.MANUAL,
            reason=data["reason"],
        )


class OverrideInput(serializers.Serializer):
    points = serializers.DecimalField(max_digits=8, decimal_places=3)
    reason = serializers.CharField(max_length=300)


class ScoreOverrideApi(ScoreChangeApi):
    input_class = OverrideInput

    @extend_schema(request=OverrideInput, responses=ScoreOutput, summary="Override (with a reason)")
    def post(self, request, course_code: str, item_id: int, username: str):
        return super().post(request, course_code, item_id, username)

    def change(self, item, student, data):
        scores.score_override(
            score=self.existing(item, student),
            points=data["points"],
            reason=data["reason"],
            by=self.request.user,
        )


class ReasonInput(serializers.Serializer):
    reason = serializers.CharField(max_length=300)


class ScoreOverrideClearApi(ScoreChangeApi):
    input_class = ReasonInput

    @extend_schema(request=ReasonInput, responses=ScoreOutput, summary="Remove an override")
    def post(self, request, course_code: str, item_id: int, username: str):
        return super().post(request, course_code, item_id, username)

    def change(self, item, student, data):
        score = self.existing(item, student)
        scores.score_override_clear(score=score, reason=data["reason"], by=self.request.user)


class StatusInput(serializers.Serializer):
    status = serializers.ChoiceField(choices=[Status.EXCUSED.value, Status.MISSING.value])
    reason = serializers.CharField(max_length=300)


class ScoreStatusApi(ScoreChangeApi):
    input_class = StatusInput

    @extend_schema(request=StatusInput, responses=ScoreOutput, summary="Excuse or mark missing")
    def post(self, request, course_code: str, item_id: int, username: str):
        return super().post(request, course_code, item_id, username)

    def change(self, item, student, data):
        scores.score_set_status(
            item=item,
            student=student,
            status=data["status"],
            by=self.request.user,
            reason=data["reason"],
        )


class ExtensionInput(serializers.Serializer):
    due_at = serializers.DateTimeField()
    reason = serializers.CharField(max_length=300, required=False, default="")


class ExtensionApi(ScoreChangeApi):
    input_class = ExtensionInput

    @extend_schema(request=ExtensionInput, responses=ScoreOutput, summary="Grant an extension")
    def post(self, request, course_code: str, item_id: int, username: str):
        item, student = self.target(item_id, username)
        data = ExtensionInput(data=request.data)
        data.is_valid(raise_exception=True)
        scores.extension_grant(item=item, student=student, by=request.user, **data.validated_data)
        if not Score.objects.filter(item=item, student=student).exists():
            return Response({"username": student.username, "due_at": data.validated_data["due_at"]})
        return self.respond(item, student)


class AdjustmentInput(serializers.Serializer):
    adjustment = serializers.DecimalField(max_digits=8, decimal_places=3)
    reason = serializers.CharField(max_length=300)


class TeamAdjustmentApi(ScoreChangeApi):
    input_class = AdjustmentInput

    @extend_schema(
        request=AdjustmentInput, responses=ScoreOutput, summary="Adjust one member's team score"
    )
    def post(self, request, course_code: str, item_id: int, username: str):
        return super().post(request, course_code, item_id, username)

    def change(self, item, student, data):
        scores.team_member_adjust(
            score=self.existing(item, student),
            adjustment=data["adjustment"],
            reason=data["reason"],
            by=self.request.user,
        )
