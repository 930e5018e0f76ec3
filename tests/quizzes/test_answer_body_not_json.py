"""A save whose body is not JSON at all (a form, plain text, no content type) is refused like a
malformed JSON body: a 400 with the reason, recorded as refused, the answers saved before stand."""

from __future__ import annotations

import pytest

from courseapp.quizzes.models import AnswerSave

URL = "/api/courses/pmldl/quizzes/week1/attempts/1/answers/relu/"
BODY = b'{"value": 0}'
FORM = b'--xx\r\nContent-Disposition: form-data; name="value"\r\n\r\n0\r\n--xx--\r\n'


@pytest.fixture
def client(api_as, week1, student):
    client = api_as(student)
    assert client.post("/api/courses/pmldl/quizzes/week1/attempts/").status_code == 201
    assert client.put(URL, {"value": 1}, format="json").status_code == 200
    return client


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("text/plain", BODY),
        ("application/x-www-form-urlencoded", b"value=0"),
        ("multipart/form-data; boundary=xx", FORM),
        ("", BODY),
        ("application/xml", b"<value/>"),
    ],
    ids=["text", "urlencoded", "multipart", "none", "xml"],
)
def test_a_body_that_is_not_json_is_a_400_recorded_as_refused(client, content_type, body):
    response = client.generic("PUT", URL, body, content_type=content_type)

    assert response.status_code == 400 and "JSON" in response.data["detail"]
    last = AnswerSave.objects.latest("pk")
    assert not last.accepted and "JSON" in last.refusal
    assert list(AnswerSave.objects.filter(accepted=True).values_list("value", flat=True)) == [1]
