"""Prefect flows: thin orchestration over the services of `recall`."""
