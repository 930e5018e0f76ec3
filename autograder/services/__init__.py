"""Writes of the autograder, one module per job.

- ``assignments``: importing an assignment from its source files.
- ``intake``: checking and storing a student's submission, and queueing it.
- ``autograde``: grading a submission's files (what the worker and ``manage.py autograde`` run).
- ``queue``: the queue's life cycle of a submission (claim, record, fail, give up, grade again).
- ``hand_grades``: hand grades, and the bridge that puts a submission's score in the gradebook.

Reads are ``autograder.selectors``'; sending messages is ``autograder.dispatch``'s and finding
stuck submissions ``autograder.sweeper``'s.
"""
