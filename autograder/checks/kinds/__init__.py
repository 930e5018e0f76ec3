"""The check kinds, one module each; ``autograder.checks.registry`` lists them. ``base.Kind`` says
what a kind answers for."""
