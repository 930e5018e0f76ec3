"""Statistics of a quiz for staff, over its submitted, fully graded attempts: per question the
mean score, the share of attempts choosing each option, and the discrimination index (the
correlation of the question's score with the rest of the attempt's score: a good question is
answered right more often by those who do well on the rest), and the distribution of scores."""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

from courseapp.quizzes.kinds import kind_of
from courseapp.quizzes.models import AnswerGrade, Attempt, AttemptState, Question, Quiz
from courseapp.quizzes.selectors import answers_of
from grading.charts import Chart, bar_chart


@dataclass(frozen=True)
class QuestionStats:
    question: Question
    answered: int  # attempts that drew it
    mean: float | None  # mean points
    options: list[tuple[str, float]]  # (choice, share of attempts choosing it)
    discrimination: float | None  # None: too few attempts, or no spread


@dataclass(frozen=True)
class QuizStats:
    attempts: int
    questions: list[QuestionStats]
    scores: Chart
    per_question: Chart  # mean points as a share of each question's, labelled Q1, Q2, … in order


def quiz_statistics(*, quiz: Quiz) -> QuizStats:
    attempts = list(
        Attempt.objects.filter(quiz=quiz, state=AttemptState.SUBMITTED, score__isnull=False)
    )
    points: dict[int, dict[int, Decimal]] = {a.pk: {} for a in attempts}
    grades = AnswerGrade.objects.filter(attempt__in=attempts, points__isnull=False)
    for attempt_id, question_id, earned in grades.values_list("attempt", "question", "points"):
        points[attempt_id][question_id] = earned
    answers = answers_of(attempts=attempts)
    questions = list(quiz.questions.order_by("position", "pk"))
    stats = [_question_stats(q, attempts, points, answers) for q in questions]
    return QuizStats(len(attempts), stats, _score_chart(attempts), _question_chart(stats))


def _question_chart(stats: list[QuestionStats]) -> Chart:
    shares = [
        round(100 * s.mean / float(s.question.points))
        if s.mean is not None and s.question.points
        else 0
        for s in stats
    ]
    labels = [f"Q{n}" for n in range(1, len(stats) + 1)]
    return bar_chart(
        "Mean points per question, % of its points (Q1 is the first row below)", labels, shares
    )


def _question_stats(question, attempts, points, answers) -> QuestionStats:
    drew = [a for a in attempts if question.pk in a.question_pks]
    own = [float(points[a.pk].get(question.pk, 0)) for a in drew]
    rest = [float(a.score) - value for a, value in zip(drew, own, strict=True)]
    options = []
    kind = kind_of(question.kind)
    for index, label in enumerate(kind.option_labels(question.choices or []) if drew else []):
        chosen = sum(kind.chose(answers.get(a.pk, {}).get(question.pk), index) for a in drew)
        options.append((label, chosen / len(drew)))
    mean = sum(own) / len(own) if own else None
    return QuestionStats(question, len(drew), mean, options, _correlation(own, rest))


def _correlation(xs: list[float], ys: list[float]) -> float | None:
    """Pearson's r, or None with fewer than three pairs or no spread in either."""
    if len(xs) < 3:
        return None
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    sxx, syy = sum((x - mx) ** 2 for x in xs), sum((y - my) ** 2 for y in ys)
    if sxx == 0 or syy == 0:
        return None
    return sxy / math.sqrt(sxx * syy)


def _score_chart(attempts: list[Attempt]) -> Chart:
    """Attempts by score, in tenths of the maximum."""
    counts = [0] * 10
    for attempt in attempts:
        share = float(attempt.score / attempt.max_score) if attempt.max_score else 0.0
        counts[min(int(share * 10), 9)] += 1
    labels = [f"{10 * i}%" for i in range(10)]
    return bar_chart("Attempts by score (from, share of the maximum)", labels, counts)
