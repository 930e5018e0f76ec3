"""Reference checks: compare a student's function, module, optimizer, scheduler, network or
trained model with a reference (PyTorch's, or the instructor's private solution).

The worker makes the inputs (seeded, with edge values), the sandbox runs the student's object on
them (``autograder/probes.py``, inside the guard ``autograder/guard.py``) and returns tensors as
safetensors, and the worker runs the reference here, never next to the student's code, and
compares stage by stage. Forbidden APIs are looked for in the source before anything runs and
trapped while the check runs.

One module per idea:

- ``spec``: what a check is (``Check``, ``CheckError``); ``parsing``: reading ``[[checks]]``.
- ``registry``: the one table of check kinds; ``kinds/``: one module per kind (``kinds.base.Kind``
  says what a kind answers for). A new kind is a module in ``kinds/`` and one line in
  ``registry``.
- ``cells``: checks in a notebook (grade cells that declare one, the cells that run them).
- ``names``, ``forbidden``, ``tampering``: the scans of the student's source.
- ``inputs``: making a check's inputs; ``exchange``: what crosses into and out of the sandbox.
- ``loading``, ``reference``: loading and running the reference, and the verdict against it;
  ``compare``: comparing outputs, stage by stage; ``digits``: the training checks' data set.
- ``scoring``: the checks of one grading, from preparing them to their scores.

Nothing is imported here: import what you use from its module.
"""
