"""The words of the request's user: recall.words in the page's language."""

from __future__ import annotations

from fastapi import Request

from recall.web.languages import page_language
from recall.words import N_, Words

__all__ = ["N_", "Words", "words_of"]


def words_of(request: Request) -> Words:
    """The words of the request's user, in their language."""
    return Words(page_language(request, request.app.state.recall.settings.home_language))
