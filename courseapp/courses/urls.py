from django.urls import path

from courseapp.courses import views

urlpatterns = [
    path("", views.home, name="home"),
    path("courses/<slug:course_code>/about/", views.course_detail, name="course-about"),
]
