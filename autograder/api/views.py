"""REST endpoints of the autograder: submit, list one's submissions, read a grading's results as
Gradescope ``results.json``, and (staff) grade again."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import APIException
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from autograder import dispatch, selectors, uploads
from autograder.failures import InfrastructureFault
from autograder.models import Assignment, Submission
from autograder.services.intake import NOT_STORED, submission_create
from autograder.services.queue import assignment_regrade, submission_regrade
from courseapp.courses.permissions import CoursePermission, may


class NotStored(APIException):
    """The upload could not be stored (the file store did not answer): try again, nothing counts."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = NOT_STORED
    default_code = "not_stored"


class SubmissionOutput(serializers.ModelSerializer):
    username = serializers.CharField(source="student.username")

    class Meta:
        model = Submission
        fields = ["id", "number", "username", "state", "score", "max_score", "created_at"]


class SubmittedOutput(SubmissionOutput):
    detail = serializers.SerializerMethodField(help_text="What happens next, in words.")

    class Meta(SubmissionOutput.Meta):
        fields = [*SubmissionOutput.Meta.fields, "detail"]

    def get_detail(self, submission) -> str:
        return dispatch.receipt(submission)


class SubmitInput(serializers.Serializer):
    file = serializers.ListField(
        child=serializers.FileField(),
        min_length=1,
        help_text=(
            "The notebook (or the notebooks of an assignment of several), the .py files, or a "
            "zip of them (repeat the field for several)."
        ),
    )


class AssignmentApi(APIView):
    permission_classes = [CoursePermission]

    def assignment(self, slug: str) -> Assignment:
        return get_object_or_404(Assignment, course=self.course, slug=slug)

    def submissions(self, assignment: Assignment):
        """Everyone's for staff, one's own for anyone else."""
        if may(self.request.user, self.course, "gradebook"):
            return selectors.submission_list(assignment=assignment)
        return selectors.submission_list(assignment=assignment, student=self.request.user)


class SubmissionListApi(AssignmentApi):
    course_resource = "submissions"
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        responses=SubmissionOutput(many=True), summary="Submissions (yours, or all for staff)"
    )
    def get(self, request, course_code: str, slug: str):
        return Response(SubmissionOutput(self.submissions(self.assignment(slug)), many=True).data)

    @extend_schema(
        request=SubmitInput,
        responses={201: SubmittedOutput},
        summary="Submit",
        description="201 once the submission is stored: it counts even while the grading queue "
        "is down (``detail`` then says so, and grading starts when the queue is back).",
    )
    def post(self, request, course_code: str, slug: str):
        assignment = self.assignment(slug)
        data = SubmitInput(data=request.data)
        data.is_valid(raise_exception=True)
        files = uploads.read_uploaded(
            data.validated_data["file"], max_bytes=assignment.max_upload_bytes
        )
        try:
            submission = submission_create(assignment=assignment, student=request.user, files=files)
        except InfrastructureFault as exc:
            raise NotStored() from exc
        return Response(SubmittedOutput(submission).data, status=status.HTTP_201_CREATED)


class ResultsOutput(serializers.Serializer):
    score = serializers.FloatField()
    execution_time = serializers.FloatField()
    output = serializers.CharField()
    tests = serializers.ListField(child=serializers.DictField())


class SubmissionResultsApi(AssignmentApi):
    course_resource = "submissions"

    @extend_schema(
        responses=ResultsOutput, summary="A graded submission as Gradescope results.json"
    )
    def get(self, request, course_code: str, slug: str, submission_id: int):
        submission = get_object_or_404(self.submissions(self.assignment(slug)), pk=submission_id)
        run = selectors.latest_run(submission=submission)
        if run is None:
            return Response({"detail": f"Not graded yet ({submission.state})."}, status=404)
        return Response(selectors.run_results_json(submission=submission, run=run))


class GradeAgainInput(serializers.Serializer):
    submission = serializers.IntegerField(required=False, help_text="Omit: every submission.")


class GradeAgainOutput(serializers.Serializer):
    queued = serializers.IntegerField()


class AssignmentRegradeApi(AssignmentApi):
    course_resource = "assignments"

    @extend_schema(request=GradeAgainInput, responses=GradeAgainOutput, summary="Grade again")
    def post(self, request, course_code: str, slug: str):
        data = GradeAgainInput(data=request.data)
        data.is_valid(raise_exception=True)
        assignment = self.assignment(slug)
        if "submission" in data.validated_data:
            queued = submission_regrade(
                assignment=assignment, submission_pk=data.validated_data["submission"]
            )
        else:
            queued = assignment_regrade(assignment=assignment)
        return Response({"queued": queued})
