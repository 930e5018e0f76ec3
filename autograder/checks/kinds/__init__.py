"""The check kinds, one module each; ``autograder.checks.registry`` lists them. ``base.Kind`` says
what a kind answers for.

torch is imported where it is used, so that reading a spec (``parsing``, ``cells``,
``autograder.harness``) does not load it: some seconds of start-up that tools and tests which
only read specs do without.
"""
