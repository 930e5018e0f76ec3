"""Staff pages: the gradebook, one score, team scores, CSV export and import, the regrade queue."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from courseapp.courses.models import Team
from courseapp.courses.permissions import course_view
from courseapp.courses.selectors import student_enrollments, team_list
from courseapp.courses.timezones import course_time
from grading import charts, exports, forms, selectors
from grading.models import Extension, RegradeRequest, Score, Source
from grading.services import regrades, scores
from grading.services.csv_import import MAX_BYTES, gradebook_import
from grading.services.items import graded_item_publish
from grading.views.common import course_item, run_service

SORTS = {"name", "total", "letter"}


def _sorted_rows(gradebook, sort: str, descending: bool):
    """Rows sorted by name (as loaded), total, letter or one item; an unknown key keeps names."""
    rows = list(gradebook.rows())
    item_ids = {item.pk for item in gradebook.items}
    if sort == "total":
        rows.sort(key=lambda row: row[1].total)
    elif sort == "letter":
        rows.sort(key=lambda row: (row[1].letter, -row[1].total))
    elif sort.startswith("item-") and sort[5:].isdigit() and int(sort[5:]) in item_ids:
        item_id = int(sort[5:])  # no score sorts below 0
        rows.sort(
            key=lambda row: (
                row[1].item(item_id).earned is not None,
                row[1].item(item_id).earned or 0,
            )
        )
    if descending:
        rows.reverse()
    # Cells in column order, so the template needs no lookups.
    return [(student, b, [b.item(i.pk) for i in gradebook.items]) for student, b in rows]


@login_required
@course_view("gradebook")
def gradebook(request, course):
    book = selectors.gradebook_for_course(course=course)
    if book is None:
        return render(request, "grading/no_scheme.html", {"course": course})
    sort = request.GET.get("sort", "name")
    descending = request.GET.get("dir") == "desc"

    def link(key: str) -> str:
        """The column's sort link: a second click on the sorted column reverses it."""
        return f"?sort={key}&dir={'asc' if sort == key and descending else 'desc'}"

    context = {
        "course": course,
        "book": book,
        "rows": _sorted_rows(book, sort, descending),
        "columns": [(item, link(f"item-{item.pk}")) for item in book.items],
        "links": {key: link(key) for key in SORTS},
        "letters_chart": charts.letter_chart(book),
        "totals_chart": charts.total_chart(book),
        "open_regrades": selectors.regrade_requests_open(course=course).count(),
        "release": selectors.grade_release_latest(course=course),
    }
    return render(request, "grading/gradebook.html", context)


@login_required
@course_view("gradebook")
@require_POST
def item_publish(request, course, item_id: int):
    item = course_item(course, item_id)
    publish = request.POST.get("published") == "1"
    graded_item_publish(item=item, published=publish)
    state = "published: students see it" if publish else "hidden from students"
    messages.success(request, f"{item.name} is {state}.")
    return redirect("gradebook", course_code=course.code)


@login_required
@course_view("gradebook")
def score_detail(request, course, item_id: int, username: str):
    item = course_item(course, item_id)
    student = selectors.course_student(course=course, username=username)
    if request.method == "POST" and _score_action(request, course, item, student):
        return redirect(request.path)
    book = selectors.gradebook_for_course(course=course, students=[student])
    if book is None:
        return render(request, "grading/no_scheme.html", {"course": course})
    score = Score.objects.select_related("team").filter(item=item, student=student).first()
    context = {
        "course": course,
        "item": item,
        "student": student,
        "score": score,
        "result": book.breakdowns[student.pk].item(item.pk),
        "history": selectors.score_history(score=score) if score else [],
        "extension": item.extensions.filter(student=student).first(),
        "forms": {
            "set": forms.PointsForm(),
            "override": forms.OverrideForm(),
            "status": forms.StatusForm(),
            "clear": forms.ReasonForm(),
            "extension": forms.ExtensionForm(),
            "adjust": forms.AdjustmentForm(),
        },
    }
    return render(request, "grading/score_detail.html", context)


def _score_action(request, course, item, student) -> bool:
    """Handle one of the score page's forms; True when the service accepted it."""
    action = request.POST.get("action")
    form_class = {
        "set": forms.PointsForm,
        "override": forms.OverrideForm,
        "status": forms.StatusForm,
        "clear": forms.ReasonForm,
        "extension": forms.ExtensionForm,
        "adjust": forms.AdjustmentForm,
    }.get(action)
    if form_class is None:
        return False
    form = form_class(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
        return False
    data, by = form.cleaned_data, request.user
    existing = Score.objects.filter(item=item, student=student).first()
    calls = {
        "set": lambda: scores.score_set(
            item=item,
            student=student,
            points=data.get("points"),
            by=by,
            source=Source.MANUAL,
            reason=data.get("reason", ""),
        ),
        "override": lambda: scores.score_override(
            score=_must(existing), points=data.get("points"), reason=data.get("reason", ""), by=by
        ),
        "clear": lambda: scores.score_override_clear(
            score=_must(existing), reason=data.get("reason", ""), by=by
        ),
        "status": lambda: scores.score_set_status(
            item=item, student=student, status=data.get("status"), by=by, reason=data["reason"]
        ),
        "extension": lambda: scores.extension_grant(
            item=item,
            student=student,
            due_at=data["due_at"],
            reason=data.get("reason", ""),
            by=by,
        ),
        "adjust": lambda: scores.team_member_adjust(
            score=_must(existing),
            adjustment=data.get("adjustment"),
            reason=data.get("reason", ""),
            by=by,
        ),
    }
    return run_service(request, calls[action], "Saved; the history below has the change.")


def _must(score: Score | None) -> Score:
    if score is None:
        raise ValidationError("There is no score yet; enter one first.")
    return score


def _form_errors(request, form) -> None:
    for field, errors in form.errors.items():
        for error in errors:
            messages.error(request, f"{form.fields[field].label or field}: {error}")


@login_required
@course_view("gradebook")
def team_scores(request, course, item_id: int):
    item = course_item(course, item_id)
    if request.method == "POST":
        form = forms.PointsForm(request.POST)
        team = get_object_or_404(Team, pk=request.POST.get("team"), course=course)
        if form.is_valid():
            run_service(
                request,
                lambda: scores.team_score_set(
                    item=item,
                    team=team,
                    points=form.cleaned_data["points"],
                    by=request.user,
                    reason=form.cleaned_data["reason"],
                ),
                f"Score of {team.name} saved for each member.",
            )
            return redirect(request.path)
        _form_errors(request, form)
    by_student = {s.student_id: s for s in Score.objects.filter(item=item)}
    teams = []
    for team in team_list(course=course):
        members = [m.enrollment.user for m in team.memberships.all()]
        teams.append({"team": team, "members": [(u, by_student.get(u.pk)) for u in members]})
    return render(
        request,
        "grading/team_scores.html",
        {"course": course, "item": item, "teams": teams, "form": forms.PointsForm()},
    )


@login_required
@course_view("gradebook")
def extensions(request, course):
    """Every extension in the course, and a form to grant one (the score page has one too)."""
    students = [e.user for e in student_enrollments(course=course)]
    items = [i for i in selectors.graded_item_list(course=course) if i.due_at]
    form = forms.ExtensionGrantForm(request.POST or None, students=students, items=items)
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            student = next(u for u in students if u.username == data["student"])
            item = course_item(course, int(data["item"]))
            granted = run_service(
                request,
                lambda: scores.extension_grant(
                    item=item,
                    student=student,
                    due_at=data["due_at"],
                    reason=data["reason"],
                    by=request.user,
                ),
                f"{student.get_full_name() or student.username} may hand in {item.name} until "
                f"{course_time(data['due_at'], course)}.",
            )
            if granted:
                return redirect(request.path)
        else:
            _form_errors(request, form)
    context = {
        "course": course,
        "form": form,
        "extensions": Extension.objects.filter(item__course=course)
        .select_related("item", "student", "granted_by")
        .order_by("item__due_at", "student__username"),
    }
    return render(request, "grading/extensions.html", context)


@login_required
@course_view("gradebook")
def export_csv(request, course):
    book = selectors.gradebook_for_course(course=course)
    if book is None:
        return render(request, "grading/no_scheme.html", {"course": course})
    response = HttpResponse(exports.gradebook_csv(book), content_type="text/csv; charset=utf-8")
    stamp = timezone.localdate().isoformat()  # the course's today
    response["Content-Disposition"] = f'attachment; filename="{course.code}-gradebook-{stamp}.csv"'
    return response


@login_required
@course_view("gradebook")
def import_csv(request, course):
    """Upload → the validation report and what would change → apply (validated again)."""
    context = {"course": course, "form": forms.ImportForm(), "max_mb": MAX_BYTES // 2**20}
    if request.method != "POST":
        return render(request, "grading/import.html", context)
    if "content" in request.POST:  # the second step: apply what the report showed
        data, dry_run = request.POST["content"], False
    else:
        form = context["form"] = forms.ImportForm(request.POST, request.FILES)
        if not form.is_valid():
            return render(request, "grading/import.html", context)
        data, dry_run = form.cleaned_data["file"].read(MAX_BYTES + 1), True
    try:
        report = gradebook_import(course=course, data=data, by=request.user, dry_run=dry_run)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return render(request, "grading/import.html", context)
    if report.applied:
        messages.success(request, f"Imported: {len(report.changes)} score(s) changed.")
        return redirect("gradebook", course_code=course.code)
    context["report"] = report
    if report.ok and report.changes and dry_run:
        context["content"] = data.decode("utf-8-sig") if isinstance(data, bytes) else data
    return render(request, "grading/import.html", context)


@login_required
@course_view("gradebook")
def regrade_queue(request, course):
    if request.method == "POST":
        regrade = get_object_or_404(
            RegradeRequest, pk=request.POST.get("request"), score__item__course=course
        )
        if request.POST.get("action") == "accept":
            form = forms.RegradeAcceptForm(request.POST)
            call = lambda: regrades.regrade_request_accept(  # noqa: E731
                request=regrade,
                points=form.cleaned_data["points"],
                reply=form.cleaned_data["reply"],
                by=request.user,
            )
        else:
            form = forms.RegradeDeclineForm(request.POST)
            call = lambda: regrades.regrade_request_decline(  # noqa: E731
                request=regrade, reply=form.cleaned_data["reply"], by=request.user
            )
        if form.is_valid():
            run_service(request, call, "Answered; the student sees your reply.")
        else:
            _form_errors(request, form)
        return redirect(request.path)
    return render(
        request,
        "grading/regrade_queue.html",
        {"course": course, "requests": selectors.regrade_request_list(course=course)},
    )
