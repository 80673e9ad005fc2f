"""The web application: built once per process from the App (settings and engine)."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException

from recall.bootstrap import App, build_app
from recall.domain.errors import NotFound, Refused, Unavailable
from recall.web import (
    agent_pages,
    api,
    case_edit_pages,
    desk_pages,
    lead_pages,
    pages,
    remedy_pages,
    report_pages,
    self_service_pages,
    static_files,
)
from recall.web.languages import page_templates
from recall.web.limits import ASGIApp, BodyLimit, Message, Receive, Scope, Send
from recall.web.pages import redirect, render, translate
from recall.web.report_words import N_
from recall.web.security import BadCsrf, Forbidden, LoginRequired
from recall.web.sessions import ServerSessions
from recall.web.twilio_hooks import twilio_router

# Scripts from this site only (refresh.js; none inline, no eval), fetched from this site only
# (the refresh), styles from the page itself, forms to itself only.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; connect-src 'self'; "
    "style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
log = logging.getLogger(__name__)
HSTS = "max-age=31536000; includeSubDomains"  # a year, once served over https


def create_app(app: App) -> FastAPI:
    """The console (pages and JSON), Twilio's webhooks and the customers' self-service pages;
    no console page is served without login."""
    web = FastAPI(title="recall", docs_url=None, redoc_url=None, openapi_url=None)
    web.state.recall = app
    web.state.pages = page_templates(app.settings.templates_dir / "pages")  # console, per language
    web.state.public_pages = Jinja2Templates(directory=app.settings.templates_dir / "pages")
    web.add_middleware(
        ServerSessions,
        engine=app.engine,
        clock=app.clock,
        secure=app.settings.secure_cookies,
    )
    for router in CONSOLE_ROUTERS:
        web.include_router(router)
    web.include_router(self_service_pages.router)  # public: the customers' own pages
    web.include_router(static_files.router)  # public: the console's own scripts
    web.include_router(
        twilio_router(
            engine=app.engine,
            auth_token=app.settings.twilio_auth_token,
            settings=app.dial_settings,
        )
    )
    _handle_errors(web)

    @web.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    web.add_middleware(ProtectiveHeaders, secure=app.settings.secure_cookies)
    web.add_middleware(BodyLimit)  # the outermost: nothing reads a body before it
    return web


class ProtectiveHeaders:
    """ASGI middleware: headers every answer carries (no caching, no framing, no sniffing, our
    own sources only), unless the route set its own."""

    def __init__(self, app: ASGIApp, *, secure: bool) -> None:
        self.app = app
        self.headers = [(b"cache-control", b"no-store"), (b"x-content-type-options", b"nosniff"),
                        (b"x-frame-options", b"DENY"), (b"referrer-policy", b"same-origin"),
                        (b"content-security-policy", CONTENT_SECURITY_POLICY.encode())]  # fmt: skip
        if secure:
            self.headers.append((b"strict-transport-security", HSTS.encode()))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(k, v) for k, v in self.headers if k not in present]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


def app_from_env() -> FastAPI:
    """The application of a server process, configured from the environment."""
    return create_app(build_app())


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _problem(request: Request, status: int, heading: str, message: str) -> Response:
    """JSON for the API, as said; a page in the user's language for the console (a message
    of the catalogue is translated, an error's own words are shown as they come)."""
    if _is_api(request):
        return JSONResponse({"detail": message}, status_code=status)
    return render(request, "error.html", status, heading=translate(request, heading),
                  message=translate(request, message))  # fmt: skip


# Each kind of error to its status, the page's heading and what it says (None: the error's
# own words, which name what to do).
_SAID: dict[type[Exception], tuple[int, str, str | None]] = {
    NotFound: (404, N_("Not found"), N_("There is nothing here for you.")),
    Refused: (409, N_("Not done"), None),
    Unavailable: (503, N_("Not available"), None),
    Forbidden: (403, N_("Not for your role"), N_("This part of recall is not yours.")),
    BadCsrf: (403, N_("Form refused"), N_("The form had expired or came from elsewhere: reload "
                                         "the page and try again.")),
}  # fmt: skip
# The web server's own refusals, in the user's language on a console page.
_HTTP = (N_("Sorry"), N_("Not Found"), N_("Method Not Allowed"))


async def _said(request: Request, exc: Exception) -> Response:
    status, heading, message = next(said for kind, said in _SAID.items() if isinstance(exc, kind))
    if isinstance(exc, Unavailable):
        log.warning("%s %s: %s", request.method, request.url.path, exc)
    return _problem(request, status, heading, message or str(exc))


def _handle_errors(web: FastAPI) -> None:
    """Each kind of RecallError to its status, once; any other exception is a bug: a 500."""

    @web.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired) -> Response:
        if _is_api(request):
            return JSONResponse({"detail": "log in first"}, status_code=401)
        return redirect(f"/login?next={request.url.path}")

    for kind in _SAID:
        web.exception_handler(kind)(_said)

    @web.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        if _is_api(request) or request.url.path.startswith("/twilio/"):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)
        return _problem(request, exc.status_code, "Sorry", str(exc.detail))

    @web.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        if _is_api(request):  # where and why, not the input (it may be anything, even bytes)
            errors = [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]}
                      for e in exc.errors()]  # fmt: skip
            return JSONResponse({"detail": errors}, status_code=422)
        fields = ", ".join(str(e["loc"][-1]) for e in exc.errors())
        said = translate(request, "Check these fields: %(fields)s", fields=fields)
        return _problem(request, 422, N_("Not saved"), said)


def openapi_schema() -> dict:
    """The OpenAPI description of the JSON endpoints (not served: every route needs login)."""
    from fastapi.openapi.utils import get_openapi

    return get_openapi(title="recall console API", version="1", routes=api.router.routes)


CONSOLE_ROUTERS = (pages.router, agent_pages.router, lead_pages.router, remedy_pages.router,
                   report_pages.router, desk_pages.router, case_edit_pages.router,
                   api.router)  # fmt: skip
