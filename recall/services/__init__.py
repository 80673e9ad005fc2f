"""Use cases: short functions with keyword-only dependencies, returning small reports."""
