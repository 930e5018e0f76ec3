"""Forms of the quiz pages: they parse and check input shape; services keep the rules."""

from __future__ import annotations

import json

from django import forms

from courseapp.quizzes.quiz_file import MAX_YAML_BYTES


class QuizImportForm(forms.Form):
    """A quiz's YAML file, uploaded or pasted."""

    file = forms.FileField(required=False, allow_empty_file=True)
    text = forms.CharField(required=False, strip=False)

    def quiz_text(self) -> bytes | str:
        """The file's bytes (one past the limit at most: the reader refuses it), else the text."""
        upload = self.cleaned_data["file"]
        return upload.read(MAX_YAML_BYTES + 1) if upload else self.cleaned_data["text"]


class AccommodationForm(forms.Form):
    """One student's row of the accommodations page; an empty cell is the default."""

    username = forms.CharField(required=False, strip=False)
    time_factor = forms.DecimalField(required=False)
    extra_minutes = forms.IntegerField(required=False)
    extra_attempts = forms.IntegerField(required=False)
    note = forms.CharField(required=False)

    def accommodation(self) -> dict:
        """The arguments of ``services.accommodation_set`` besides the course and the student."""
        data = self.cleaned_data
        return {
            "time_factor": 1 if data["time_factor"] is None else data["time_factor"],
            "extra_minutes": data["extra_minutes"] or 0,
            "extra_attempts": data["extra_attempts"] or 0,
            "note": data["note"],
        }


class HandGradesForm(forms.Form):
    """One question's answers across students: points and a comment per attempt (``points-<pk>``,
    ``feedback-<pk>``); the service checks the points against the question."""

    def __init__(self, *args, attempts, **kwargs):
        super().__init__(*args, **kwargs)
        self.attempts = list(attempts)
        for attempt in self.attempts:
            self.fields[f"points-{attempt.pk}"] = forms.CharField(required=False)
            self.fields[f"feedback-{attempt.pk}"] = forms.CharField(required=False)

    def grades(self) -> dict:
        """Attempt → (points, feedback) for each row given points; a row left empty waits."""
        data = self.cleaned_data
        return {
            a: (data[f"points-{a.pk}"], data[f"feedback-{a.pk}"])
            for a in self.attempts
            if data[f"points-{a.pk}"]
        }


class QuestionChangeForm(forms.Form):
    """A question's new key (JSON text) and points, and why; the regrade checks the values."""

    key = forms.CharField(required=False, strip=False)
    points = forms.CharField(required=False, strip=False)
    reason = forms.CharField(required=False, strip=False)
    keep_higher = forms.BooleanField(required=False)
    apply = forms.BooleanField(required=False)  # the "Apply" button; without it, a preview

    def clean_key(self):
        try:
            return json.loads(self.cleaned_data["key"])
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(f"The key is not JSON: {exc}.") from exc

    def shown(self) -> dict:
        """The values the page shows again: as posted, else the question's."""
        return {name: self[name].value() for name in ("key", "points", "reason", "keep_higher")}


def error_text(form: forms.Form) -> list[str]:
    """Every error of ``form``, as the pages list them."""
    return [message for errors in form.errors.values() for message in errors]
