"""The grading scheme page: everyone reads it; instructors preview and apply a new version, staff
release final grades."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from courseapp.courses.permissions import Action, course_view, may
from grading import forms, selectors
from grading.services import schemes


def _initial(scheme) -> dict:
    if scheme is None:
        return {"rounding": "half_up", **schemes.DEFAULT_LATE_POLICY}
    return {
        "components": "\n".join(
            f"{c['name']}, {c['points']}, {c.get('drop_lowest', 0)}" for c in scheme.components
        ),
        "cutoffs": ", ".join(f"{c['letter']} {c['min_points']}" for c in scheme.letter_cutoffs),
        "rounding": scheme.rounding,
        **scheme.late_policy,
    }


def _keep_component_policies(arguments: dict, current) -> dict:
    """The form does not edit per-component late policies; carry them over by name."""
    if current is not None:
        policies = {c["name"]: c.get("late_policy") for c in current.components}
        for component in arguments["components"]:
            component["late_policy"] = policies.get(component["name"])
    return arguments


@login_required
@course_view("grading_scheme")
def scheme_page(request, course):
    current = selectors.grading_scheme_current(course=course)
    can_change = may(request.user, course, "grading_scheme", Action.CHANGE)
    context = {
        "course": course,
        "scheme": current,
        "spec": selectors.scheme_spec(current) if current else None,
        "can_change": can_change,
        "can_release": may(request.user, course, "gradebook", Action.CHANGE),
        "release": selectors.grade_release_latest(course=course),
        "versions": course.grading_schemes.order_by("-version")[:10],
    }
    if not can_change:
        return render(request, "grading/scheme.html", context)
    form = forms.SchemeForm(request.POST or None, initial=_initial(current))
    context["form"] = form
    if request.method == "POST" and form.is_valid():
        arguments = _keep_component_policies(form.scheme_arguments(), current)
        try:
            if request.POST.get("confirm") == "1":
                schemes.grading_scheme_create(
                    course=course,
                    created_by=request.user,
                    note=form.cleaned_data["note"],
                    **arguments,
                )
                messages.success(request, "The new scheme version applies from now on.")
                return redirect("grading-scheme", course_code=course.code)
            data = schemes.scheme_validate(**arguments)
            context["preview"] = schemes.grading_scheme_preview(course=course, data=data)
            context["previewed"] = True
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
    return render(request, "grading/scheme.html", context)


@login_required
@course_view("gradebook")
@require_POST
def grades_release(request, course):
    try:
        release = schemes.grades_release(course=course, released_by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            f"Final grades released with scheme v{release.scheme.version}; students see their "
            "letters computed with it until the next release.",
        )
    return redirect("grading-scheme", course_code=course.code)
