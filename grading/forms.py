"""Forms of the gradebook pages: they parse and check input shape; services keep the rules."""

from __future__ import annotations

from django import forms

from courseapp.courses.timezones import course_time, zone_label
from grading.computation import Status


class PointsForm(forms.Form):
    points = forms.DecimalField(min_value=0, max_digits=8, decimal_places=3)
    reason = forms.CharField(max_length=300, required=False)


class OverrideForm(forms.Form):
    points = forms.DecimalField(min_value=0, max_digits=8, decimal_places=3)
    reason = forms.CharField(max_length=300, help_text="Required; the student sees it.")


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=[(Status.EXCUSED, "Excused"), (Status.MISSING, "Missing")])
    reason = forms.CharField(max_length=300)


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=300)


class ExtensionForm(forms.Form):
    """Built inside a course's view: the due date is read, and every time shown, in the course's
    zone (the active one there), and the labels name it."""

    due_at = forms.DateTimeField(
        label="New due date",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    reason = forms.CharField(max_length=300, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["due_at"].label = f"New due date ({zone_label()})"
        self.fields["due_at"].help_text = f"In the course's time zone, {zone_label()}."


class ExtensionGrantForm(ExtensionForm):
    """The extensions page's form: the student and the item are chosen from the course's."""

    student = forms.ChoiceField()
    item = forms.ChoiceField(label="Item")
    field_order = ["student", "item", "due_at", "reason"]

    def __init__(self, *args, students, items, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["student"].choices = [("", "—")] + [
            (u.username, f"{u.get_full_name() or u.username} ({u.username})") for u in students
        ]
        self.fields["item"].choices = [("", "—")] + [
            (str(i.pk), f"{i.name} (due {course_time(i.due_at, fmt='%a %d %b %H:%M %Z')})")
            for i in items
        ]


class AdjustmentForm(forms.Form):
    adjustment = forms.DecimalField(max_digits=8, decimal_places=3, help_text="+ or − points")
    reason = forms.CharField(max_length=300)


class ImportForm(forms.Form):
    file = forms.FileField(
        label="CSV file", help_text="The export's wide format, or username,item,points[,comment]."
    )


class RegradeRequestForm(forms.Form):
    message = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=4000)


class RegradeAcceptForm(forms.Form):
    points = forms.DecimalField(min_value=0, max_digits=8, decimal_places=3)
    reply = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=4000)


class RegradeDeclineForm(forms.Form):
    reply = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=4000)


class SchemeForm(forms.Form):
    """The scheme as editable text: one component a line, then the cutoffs."""

    components = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="One a line: name, points, drop lowest N. For example: Quizzes, 10, 1",
    )
    cutoffs = forms.CharField(
        help_text="Letters with their lower bounds, highest first: A 90, B 76, C 60, D 0",
    )
    rounding = forms.ChoiceField(
        choices=[("half_up", "Round the total half-up to a whole point"), ("none", "No rounding")]
    )
    percent_per_day = forms.DecimalField(min_value=0, max_value=100, label="Late: % per day")
    floor_percent = forms.DecimalField(min_value=0, max_value=100, label="Late: floor %")
    max_days_late = forms.IntegerField(min_value=0, label="Late: no credit after N days")
    note = forms.CharField(max_length=300, required=False)

    def clean_components(self) -> list[dict]:
        rows = []
        for number, line in enumerate(self.cleaned_data["components"].splitlines(), start=1):
            if not line.strip():
                continue
            parts = [p.strip() for p in line.split(",")]
            if len(parts) not in (2, 3) or not parts[0]:
                raise forms.ValidationError(f"Line {number}: write name, points[, drop lowest].")
            try:
                drop = int(parts[2]) if len(parts) == 3 else 0
            except ValueError as exc:
                raise forms.ValidationError(
                    f"Line {number}: drop lowest is a whole number."
                ) from exc
            rows.append({"name": parts[0], "points": parts[1], "drop_lowest": drop})
        return rows

    def clean_cutoffs(self) -> list[dict]:
        cutoffs = []
        for part in self.cleaned_data["cutoffs"].split(","):
            words = part.split()
            if len(words) != 2:
                raise forms.ValidationError(
                    f"{part.strip()!r}: write a letter and its lower bound."
                )
            cutoffs.append({"letter": words[0], "min_points": words[1]})
        return cutoffs

    def scheme_arguments(self) -> dict:
        data = self.cleaned_data
        return {
            "components": data["components"],
            "letter_cutoffs": data["cutoffs"],
            "rounding": data["rounding"],
            "late_policy": {
                "percent_per_day": data["percent_per_day"],
                "floor_percent": data["floor_percent"],
                "max_days_late": data["max_days_late"],
            },
        }
