"""Prefect flows: thin orchestration over the services of `recall`."""


def artifact_key(kind: str, recall_id: str) -> str:
    """A Prefect artifact key for a recall (keys take lower-case letters, digits and dashes)."""
    return f"{kind}-{recall_id.lower().replace('_', '-').replace('.', '-')}"
