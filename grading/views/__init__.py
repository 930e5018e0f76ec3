"""Gradebook pages: ``staff`` (gradebook, scores, CSV, regrade queue), ``scheme`` (versions,
preview, release) and ``student`` (one's own grades and regrade requests)."""
