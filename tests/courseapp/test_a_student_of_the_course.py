"""Who "a student of the course" is: one rule (``courses.selectors``) for quizzes, scores,
extensions and the gradebook, with one message when someone else is refused."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from courseapp.courses.selectors import is_student, require_student, student_enrollments


def test_it_is_a_student_enrolled_as_a_student(course, student, ta, instructor, outsider):
    assert is_student(user=student, course=course)
    assert is_student(user=student, course=course.pk)
    assert not any(is_student(user=u, course=course) for u in (ta, instructor, outsider))


def test_the_class_list_holds_the_students_only(course, student, other_student, ta):
    users = {e.user for e in student_enrollments(course=course)}

    assert users == {student, other_student}


@pytest.mark.parametrize("given", ["course", "id"])
def test_anyone_else_is_refused_with_one_message(course, outsider, given):
    where = course if given == "course" else course.pk

    with pytest.raises(ValidationError) as refused:
        require_student(user=outsider, course=where)

    assert refused.value.messages == ["outsider is not a student of pmldl."]
