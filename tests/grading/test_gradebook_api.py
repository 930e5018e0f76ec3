"""The gradebook API: the same numbers as the pages and the CSV, and the staff actions."""

from __future__ import annotations

from grading.models import Score


def test_staff_enter_override_and_read_a_score_with_history(api_as, ta, student, quiz):
    client = api_as(ta)
    url = f"/api/courses/pmldl/items/{quiz.pk}/scores/student/"

    assert client.post(url + "set/", {"points": "6"}, format="json").status_code == 200
    refused = client.post(url + "override/", {"points": "9"}, format="json")
    done = client.post(url + "override/", {"points": "9", "reason": "typo"}, format="json")

    assert refused.status_code == 400 and "reason" in str(refused.json())
    body = done.json()
    assert (body["raw_points"], body["override_points"], body["result"]["earned"]) == (
        "6.000",
        "9.000",
        "9",
    )
    assert [h["reason"] for h in body["history"]] == ["", "typo"]


def test_each_change_names_what_it_needs(api_as, ta, student, quiz):
    url = f"/api/courses/pmldl/items/{quiz.pk}/scores/student/"
    api_as(ta).post(url + "set/", {"points": 5}, format="json")

    missing = api_as(ta).post(url + "status/", {"status": "excused"}, format="json")
    unknown = api_as(ta).post(url + "teleport/", {}, format="json")

    assert missing.status_code == 400 and "reason" in missing.json()
    assert unknown.status_code == 404


def test_the_gradebook_endpoint_matches_the_export(api_as, ta, student, quiz, client):
    api_as(ta).post(
        f"/api/courses/pmldl/items/{quiz.pk}/scores/student/set/", {"points": 7}, format="json"
    )

    [row] = api_as(ta).get("/api/courses/pmldl/gradebook/").json()
    client.force_login(ta)
    csv_text = client.get("/courses/pmldl/gradebook/export.csv").content.decode()

    assert row["username"] == "student"
    assert row["breakdown"]["total"] == "7" and row["breakdown"]["letter"] == "D"
    assert csv_text.splitlines()[1].endswith(",7,7,D")


def test_importing_through_the_api_reports_bad_rows(api_as, ta, student, midterm):
    response = api_as(ta).post(
        "/api/courses/pmldl/gradebook/import/",
        {"csv": "username,item,points\nstudent,Midterm theory,5\nghost,Midterm theory,5\n"},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"line": 3, "message": "unknown student 'ghost' (not a student of the course)"}
    ]
    assert not Score.objects.exists()


def test_an_instructor_previews_and_adds_a_scheme_version(api_as, instructor, ta, scheme):
    body = {
        "components": [{"name": "Quizzes", "points": "10", "drop_lowest": 1}]
        + [
            {"name": n, "points": p}
            for n, p in (
                ("Assignments", 30),
                ("Midterm", 20),
                ("Final project", 30),
                ("Final exam", 20),
            )
        ],
        "letter_cutoffs": [{"letter": "A", "min_points": "90"}, {"letter": "F", "min_points": "0"}],
    }

    preview = api_as(instructor).post("/api/courses/pmldl/scheme/preview/", body, format="json")
    by_ta = api_as(ta).post("/api/courses/pmldl/scheme/", body, format="json")
    created = api_as(instructor).post("/api/courses/pmldl/scheme/", body, format="json")

    assert preview.status_code == 200 and preview.json() == []
    assert by_ta.status_code == 403
    assert created.status_code == 201 and created.json()["version"] == 2


def test_a_bad_scheme_says_why(api_as, instructor, scheme):
    body = {
        "components": [{"name": "Quizzes", "points": "10"}],
        "letter_cutoffs": [
            {"letter": "A", "min_points": "90"},
            {"letter": "B", "min_points": "95"},
        ],
    }

    response = api_as(instructor).post("/api/courses/pmldl/scheme/", body, format="json")

    assert response.status_code == 400
    assert "Cutoffs must descend" in str(response.json())
