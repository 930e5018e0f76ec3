"""REST endpoints of quizzes: a student starts (or continues) an attempt, saves answers one at a
time, and submits; staff import and export quizzes and set accommodations. A student's attempt is
always looked up among their own, so another student's is simply not found."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ParseError, UnsupportedMediaType
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.views import APIView

from courseapp.courses.permissions import CoursePermission, may
from courseapp.quizzes import attempts, authoring, regrading, scoring, selectors, services
from courseapp.quizzes.models import Attempt, Question, Quiz


class QuizOutput(serializers.ModelSerializer):
    lecture = serializers.IntegerField(source="lecture.number")
    time_limit_seconds = serializers.SerializerMethodField()

    class Meta:
        model = Quiz
        fields = [
            "slug",
            "title",
            "lecture",
            "opens_at",
            "closes_at",
            "time_limit_seconds",
            "attempts_allowed",
            "combine",
            "review",
        ]

    def get_time_limit_seconds(self, quiz) -> int:
        return int(quiz.time_limit.total_seconds())


class AttemptOutput(serializers.Serializer):
    number = serializers.IntegerField()
    state = serializers.CharField()
    started_at = serializers.DateTimeField()
    deadline = serializers.DateTimeField()
    server_now = serializers.DateTimeField()
    seconds_left = serializers.FloatField()
    submitted_at = serializers.DateTimeField(allow_null=True)
    score = serializers.DecimalField(max_digits=8, decimal_places=3, allow_null=True)
    max_score = serializers.DecimalField(max_digits=8, decimal_places=3)
    questions = serializers.ListField(child=serializers.DictField())


def attempt_data(attempt: Attempt) -> dict:
    now = timezone.now()
    score_visible = selectors.attempt_score_visible(attempt, now=now)
    questions = selectors.attempt_questions(attempt=attempt, now=now)
    for question in questions:
        question["prompt_html"] = str(question["prompt_html"])
        if "review" in question:
            question["review"]["explanation_html"] = str(question["review"]["explanation_html"])
    return {
        "number": attempt.number,
        "state": attempt.state,
        "started_at": attempt.started_at,
        "deadline": attempt.deadline,
        "server_now": now,
        "seconds_left": max(0.0, (attempt.deadline - now).total_seconds()),
        "submitted_at": attempt.submitted_at,
        "score": attempt.score if score_visible else None,
        "max_score": attempt.max_score,
        "questions": questions,
    }


class QuizApi(APIView):
    permission_classes = [CoursePermission]
    course_resource = "quiz_attempts"

    def quiz(self, slug: str, student=None) -> Quiz:
        # Through ``course.quizzes``: ``quiz.course`` is the checked course, not read again.
        # With what starting it needs to know of ``student`` if given (``with_start_state``).
        if student is not None:
            quiz = selectors.quiz_to_start(course=self.course, slug=slug, student=student)
            if quiz is None:
                raise Http404("No Quiz matches the given query.")
            return quiz
        return get_object_or_404(self.course.quizzes.all(), slug=slug)

    def attempt(self, slug: str, number: int) -> Attempt:
        """The student's own attempt with its quiz, in one query."""
        # Found among theirs, with their user object, whose role in the course is read already.
        attempt = selectors.attempt_with_quiz(
            course=self.course, slug=slug, student=self.request.user, number=number
        )
        if attempt is None:
            raise Http404("No Attempt matches the given query.")
        return attempt


class QuizListApi(QuizApi):
    course_resource = "quizzes"

    @extend_schema(responses=QuizOutput(many=True), summary="The course's quizzes")
    def get(self, request, course_code: str):
        return Response(QuizOutput(selectors.quiz_list(course=self.course), many=True).data)


class AttemptStartApi(QuizApi):
    @extend_schema(request=None, responses={201: AttemptOutput}, summary="Start or continue")
    def post(self, request, course_code: str, slug: str):
        """Starts an attempt, or returns the open one (a reload or a second tab continues it)."""
        quiz = self.quiz(slug, student=request.user)
        attempt = attempts.attempt_start(quiz=quiz, student=request.user)
        return Response(AttemptOutput(attempt_data(attempt)).data, status=status.HTTP_201_CREATED)


class AttemptApi(QuizApi):
    @extend_schema(responses=AttemptOutput, summary="One of your attempts")
    def get(self, request, course_code: str, slug: str, number: int):
        return Response(AttemptOutput(attempt_data(self.attempt(slug, number))).data)


class AnswerInput(serializers.Serializer):
    value = serializers.JSONField(
        allow_null=True, help_text="A choice's number, a list of them, true/false, or text."
    )
    version = serializers.IntegerField(
        required=False,
        min_value=0,
        max_value=scoring.MAX_VERSION,
        help_text="Optional: this answer's number, counting the question's changes on the "
        "client (a page starts from the question's `version` it was shown). A save numbered no "
        "higher than the answer the server holds is not kept: the answer is 200 with "
        "`superseded` true and the held `version`. Without it, the last save to arrive counts.",
    )


class SavedOutput(serializers.Serializer):
    saved_at = serializers.DateTimeField()
    warning = serializers.CharField()
    version = serializers.IntegerField(
        allow_null=True,
        help_text="The highest version of this question's answer the server holds now (null: "
        "none was sent with a kept answer).",
    )
    superseded = serializers.BooleanField(
        help_text="true: this save was numbered no higher than the answer already held, and was "
        "not kept (that newer answer stands); sending it again changes nothing."
    )


class BoundedJSONParser(JSONParser):
    """JSON, where a body nested too deeply for Python's parser is a 400, not a 500."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - nested too deeply.") from None


class AnswerApi(QuizApi):
    parser_classes = [BoundedJSONParser]

    @extend_schema(
        request=AnswerInput,
        responses={200: SavedOutput, 400: None, 409: None},
        summary="Save an answer",
    )
    def put(self, request, course_code: str, slug: str, number: int, question: str):
        """Appends the answer to the attempt's log. 400 with the reason for a body that is not
        ``{"value": ...}`` (or ``{"value": ..., "version": n}``) with an answer of the question's
        kind; 409 with the reason when it arrives after the deadline plus the grace, or after
        the attempt was submitted; 200 with ``superseded`` when its version is no higher than
        the answer held. Refused saves are recorded as refused."""
        # The question with its quiz, then the attempt as it is locked: nothing else is read.
        found = selectors.question_with_quiz(course=self.course, slug=slug, question=question)
        if found is None:
            raise Http404("No Question matches the given query.")
        try:
            body = request.data
        except ParseError as exc:
            body = scoring.Unreadable(None, f"The body is not JSON we can read: {exc.detail}")
        except UnsupportedMediaType as exc:  # a form, text: refused and recorded like bad JSON
            body = scoring.Unreadable(None, f"Send JSON (application/json): {exc.detail}")
        value, version = scoring.save_body_read(body)
        try:
            saved = attempts.answer_save_to(
                quiz=found.quiz,
                student=request.user,
                number=number,
                question=found,
                value=value,
                version=version,
            )
        except Attempt.DoesNotExist:
            raise Http404("No such attempt.") from None
        except scoring.AnswerError as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_400_BAD_REQUEST)
        if not (saved.accepted or saved.superseded):
            return Response({"detail": saved.message}, status=status.HTTP_409_CONFLICT)
        return Response(
            {
                "saved_at": saved.saved_at,
                "warning": saved.warning,
                "version": saved.version,
                "superseded": saved.superseded,
            }
        )


class AttemptSubmitApi(QuizApi):
    @extend_schema(request=None, responses=AttemptOutput, summary="Submit an attempt")
    def post(self, request, course_code: str, slug: str, number: int):
        attempt = attempts.attempt_submit(attempt=self.attempt(slug, number))
        return Response(AttemptOutput(attempt_data(attempt)).data)


class QuizImportApi(QuizApi):
    course_resource = "quizzes"

    @extend_schema(
        request={"application/yaml": str}, responses={201: QuizOutput}, summary="Import (YAML)"
    )
    def post(self, request, course_code: str):
        """Creates the quiz the YAML body describes (or replaces one nobody has started)."""
        quiz = authoring.quiz_import(course=self.course, text=request.body)
        return Response(QuizOutput(quiz).data, status=status.HTTP_201_CREATED)


class QuizExportApi(QuizApi):
    course_resource = "quizzes"

    @extend_schema(responses={(200, "application/yaml"): str}, summary="Export (YAML), staff")
    def get(self, request, course_code: str, slug: str):
        if not may(request.user, self.course, "quizzes", "change"):
            return Response({"detail": "Only staff export quizzes."}, status=403)
        text = authoring.quiz_export(quiz=self.quiz(slug))
        return HttpResponse(text, content_type="application/yaml; charset=utf-8")


class AccommodationInput(serializers.Serializer):
    time_factor = serializers.DecimalField(max_digits=4, decimal_places=2, default=1)
    extra_minutes = serializers.IntegerField(min_value=0, default=0)
    extra_attempts = serializers.IntegerField(min_value=0, default=0)
    note = serializers.CharField(max_length=300, allow_blank=True, default="")


class AccommodationApi(QuizApi):
    course_resource = "quizzes"

    @extend_schema(request=AccommodationInput, responses=AccommodationInput, summary="Set (staff)")
    def put(self, request, course_code: str, username: str):
        """A student's extra time and attempts; their open attempts' deadlines move at once."""
        student = get_object_or_404(get_user_model(), username=username)
        data = AccommodationInput(data=request.data)
        data.is_valid(raise_exception=True)
        accommodation = services.accommodation_set(
            course=self.course, student=student, **data.validated_data
        )
        return Response(AccommodationInput(accommodation).data)


class QuestionChangeInput(serializers.Serializer):
    key = serializers.JSONField(required=False, help_text="The new key (see scoring.py).")
    points = serializers.DecimalField(max_digits=8, decimal_places=3, required=False)
    keep_higher = serializers.BooleanField(default=False)
    reason = serializers.CharField(max_length=300, allow_blank=True, default="")
    apply = serializers.BooleanField(default=False, help_text="false: only preview.")


class ScoreChangeOutput(serializers.Serializer):
    student = serializers.CharField()
    attempt = serializers.IntegerField()
    old = serializers.DecimalField(max_digits=8, decimal_places=3, allow_null=True)
    new = serializers.DecimalField(max_digits=8, decimal_places=3, allow_null=True)


class QuestionChangeApi(QuizApi):
    course_resource = "quizzes"

    @extend_schema(
        request=QuestionChangeInput,
        responses=ScoreChangeOutput(many=True),
        summary="Change a key or points: preview, then apply (staff)",
    )
    def post(self, request, course_code: str, slug: str, question: str):
        """Every attempt score the change would alter; with ``apply``, alters them and logs it."""
        found = get_object_or_404(Question, quiz=self.quiz(slug), slug=question)
        data = QuestionChangeInput(data=request.data)
        data.is_valid(raise_exception=True)
        changes = regrading.question_change(question=found, by=request.user, **data.validated_data)
        return Response(ScoreChangeOutput(changes, many=True).data)
