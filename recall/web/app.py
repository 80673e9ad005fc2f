"""The web application: built once per process from the App (settings and engine)."""

from __future__ import annotations

from fastapi import FastAPI

from recall.bootstrap import App, dial_settings
from recall.web.twilio_hooks import twilio_router


def create_app(app: App) -> FastAPI:
    """The FastAPI application serving Twilio's webhooks."""
    web = FastAPI(title="recall", docs_url=None, redoc_url=None)
    web.include_router(
        twilio_router(
            engine=app.engine,
            auth_token=app.settings.twilio_auth_token,
            settings=dial_settings(app.settings),
        )
    )

    @web.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return web
