"""REST endpoints for courses, enrollments, teams and lectures.

Each view parses input, asks ``CoursePermission`` (which applies the course policy), calls a
selector or a service, and renders the result with the small serializers beside it.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from courseapp.courses import selectors, services
from courseapp.courses.models import Course, Enrollment, Lecture, Role, Team
from courseapp.courses.permissions import CoursePermission


class CourseOutput(serializers.ModelSerializer):
    class Meta:
        model = Course
        fields = ["code", "title", "term", "timezone"]


class CourseListApi(APIView):
    @extend_schema(responses=CourseOutput(many=True), summary="Courses you are enrolled in")
    def get(self, request):
        courses = selectors.course_list_for_user(user=request.user)
        return Response(CourseOutput(courses, many=True).data)


class CourseDetailOutput(CourseOutput):
    your_role = serializers.SerializerMethodField()

    class Meta(CourseOutput.Meta):
        fields = [*CourseOutput.Meta.fields, "your_role"]

    def get_your_role(self, course: Course) -> str | None:
        return selectors.course_role(user=self.context["request"].user, course=course)


class CourseDetailApi(APIView):
    permission_classes = [CoursePermission]
    course_resource = "course"

    @extend_schema(responses=CourseDetailOutput, summary="One course")
    def get(self, request, course_code: str):
        return Response(CourseDetailOutput(self.course, context={"request": request}).data)


class EnrollmentOutput(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username")
    full_name = serializers.CharField(source="user.get_full_name")
    email = serializers.EmailField(source="user.email")

    class Meta:
        model = Enrollment
        fields = ["id", "username", "full_name", "email", "role"]


class EnrollmentInput(serializers.Serializer):
    username = serializers.CharField()
    role = serializers.ChoiceField(choices=Role.choices, default=Role.STUDENT)


class EnrollmentFilter(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices, required=False)


class EnrollmentListApi(APIView):
    """Staff read the class list; instructors add people to it."""

    permission_classes = [CoursePermission]
    course_resource = "enrollments"

    @extend_schema(
        parameters=[EnrollmentFilter], responses=EnrollmentOutput(many=True), summary="Class list"
    )
    def get(self, request, course_code: str):
        filters = EnrollmentFilter(data=request.query_params)
        filters.is_valid(raise_exception=True)
        enrollments = selectors.enrollment_list(course=self.course, **filters.validated_data)
        return Response(EnrollmentOutput(enrollments, many=True).data)

    @extend_schema(
        request=EnrollmentInput, responses={201: EnrollmentOutput}, summary="Enroll a user"
    )
    def post(self, request, course_code: str):
        data = EnrollmentInput(data=request.data)
        data.is_valid(raise_exception=True)
        user = get_object_or_404(get_user_model(), username=data.validated_data["username"])
        enrollment = services.enrollment_create(
            course=self.course, user=user, role=data.validated_data["role"]
        )
        return Response(EnrollmentOutput(enrollment).data, status=status.HTTP_201_CREATED)


class EnrollmentDeleteApi(APIView):
    permission_classes = [CoursePermission]
    course_resource = "enrollments"

    @extend_schema(responses={204: None}, summary="Remove a user from the course")
    def delete(self, request, course_code: str, enrollment_id: int):
        enrollment = get_object_or_404(Enrollment, pk=enrollment_id, course=self.course)
        services.enrollment_delete(enrollment=enrollment)
        return Response(status=status.HTTP_204_NO_CONTENT)


class TeamOutput(serializers.ModelSerializer):
    members = serializers.SerializerMethodField()

    class Meta:
        model = Team
        fields = ["id", "name", "members"]

    def get_members(self, team: Team) -> list[str]:
        return [m.enrollment.user.username for m in team.memberships.all()]


class TeamInput(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    members = serializers.ListField(child=serializers.CharField(), default=list)


class TeamListApi(APIView):
    """Everyone in the course sees the project teams; staff form them."""

    permission_classes = [CoursePermission]
    course_resource = "teams"

    @extend_schema(responses=TeamOutput(many=True), summary="Project teams")
    def get(self, request, course_code: str):
        teams = selectors.team_list(course=self.course)
        return Response(TeamOutput(teams, many=True).data)

    @extend_schema(request=TeamInput, responses={201: TeamOutput}, summary="Form a team")
    def post(self, request, course_code: str):
        data = TeamInput(data=request.data)
        data.is_valid(raise_exception=True)
        team = services.team_create_for_usernames(
            course=self.course,
            name=data.validated_data["name"],
            usernames=data.validated_data["members"],
        )
        return Response(TeamOutput(team).data, status=status.HTTP_201_CREATED)


class LectureOutput(serializers.ModelSerializer):
    class Meta:
        model = Lecture
        fields = ["id", "number", "title", "date"]


class LectureInput(serializers.Serializer):
    number = serializers.IntegerField(min_value=1, max_value=32767)
    title = serializers.CharField(max_length=200)
    date = serializers.DateField(required=False, allow_null=True)


class LectureListApi(APIView):
    permission_classes = [CoursePermission]
    course_resource = "lectures"

    @extend_schema(responses=LectureOutput(many=True), summary="Lectures")
    def get(self, request, course_code: str):
        lectures = selectors.lecture_list(course=self.course)
        return Response(LectureOutput(lectures, many=True).data)

    @extend_schema(request=LectureInput, responses={201: LectureOutput}, summary="Add a lecture")
    def post(self, request, course_code: str):
        data = LectureInput(data=request.data)
        data.is_valid(raise_exception=True)
        lecture = services.lecture_create(course=self.course, **data.validated_data)
        return Response(LectureOutput(lecture).data, status=status.HTTP_201_CREATED)
