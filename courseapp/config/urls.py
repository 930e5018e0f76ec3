"""The root URLconf: each app's pages and API under one site."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from courseapp.accounts.api import TokenApi
from courseapp.config.health import health
from courseapp.dashboard.views import course_home

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("api/auth/token/", TokenApi.as_view(), name="api-token"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/", include("courseapp.courses.api.urls")),
    path("api/", include("grading.api.urls")),
    path("api/", include("autograder.api.urls")),
    path("api/", include("courseapp.quizzes.api.urls")),
    path("healthz", health, name="health"),
    path("courses/<slug:course_code>/", course_home, name="course-detail"),
    path("courses/<slug:course_code>/", include("grading.urls")),
    path("courses/<slug:course_code>/", include("autograder.urls")),
    path("courses/<slug:course_code>/", include("courseapp.quizzes.urls")),
    path("", include("courseapp.courses.urls")),
]
