"""The console's own scripts, served by the console itself (the Content-Security-Policy
allows scripts from this site only): today the one that refreshes a page's figures."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from recall.web.security import AppDep

router = APIRouter()


@router.get("/static/refresh.js")
def refresh_script(app: AppDep) -> Response:
    """The page refresher: public, like the login page that loads it; nothing personal in it."""
    body = (app.settings.templates_dir / "pages" / "static" / "refresh.js").read_bytes()
    return Response(body, media_type="text/javascript; charset=utf-8",
                    headers={"Cache-Control": "no-cache"})  # fmt: skip
