from django.urls import path

from courseapp.courses.api import views

urlpatterns = [
    path("courses/", views.CourseListApi.as_view(), name="api-course-list"),
    path("courses/<slug:course_code>/", views.CourseDetailApi.as_view(), name="api-course-detail"),
    path(
        "courses/<slug:course_code>/enrollments/",
        views.EnrollmentListApi.as_view(),
        name="api-enrollment-list",
    ),
    path(
        "courses/<slug:course_code>/enrollments/<int:enrollment_id>/",
        views.EnrollmentDeleteApi.as_view(),
        name="api-enrollment-delete",
    ),
    path("courses/<slug:course_code>/teams/", views.TeamListApi.as_view(), name="api-team-list"),
    path(
        "courses/<slug:course_code>/lectures/",
        views.LectureListApi.as_view(),
        name="api-lecture-list",
    ),
]
