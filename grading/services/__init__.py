"""Writes to the gradebook, by concern: ``schemes``, ``items``, ``scores``, ``regrades``,
``csv_import``. Each function checks its rules and raises ``ValidationError`` saying why."""
