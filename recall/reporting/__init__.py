"""Reporting: completion figures, the progress report (PDF and CSV files) and closing a recall."""
