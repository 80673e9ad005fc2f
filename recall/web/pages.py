"""Rendering pages, and the routes every user shares: logging in and out, the landing page."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from recall.accounts.users import (
    LoginFailed,
    LoginThrottled,
    UserError,
    authenticate,
    set_preferences,
)
from recall.domain.access import home_of
from recall.domain.errors import Refused
from recall.i18n import LANGUAGES, gettext_for
from recall.web import flash
from recall.web.languages import LANGUAGE_KEY, clocks_of, page_language
from recall.web.security import CSRF_FIELD, AppDep, Csrf, UserDep, client_address, csrf_token
from recall.web.sessions import session_user


def render(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    """A page of templates/pages in the user's language, with the user, the CSRF token, the
    time it is and the clocks to show times on."""
    app = request.app.state.recall
    language = page_language(request, app.settings.home_language)
    pages: Jinja2Templates = request.app.state.pages[language]
    refresh = "x-refresh" in request.headers  # a message waits for a page the user opens
    if not refresh:
        context.setdefault("flash", flash.waiting(request))
    context.update(
        user=getattr(request.state, "user", None),
        csrf=csrf_token(request),
        now=app.clock(),
        clocks=clocks_of(request, language, app.settings.home_zone),
    )
    response = pages.TemplateResponse(request, name, context, status_code=status)
    if not refresh:
        flash.shown(response, request)
    return response


def translate(request: Request, message: str, **values: Any) -> str:
    """A message of the catalogue in the user's language, its values put in."""
    app = request.app.state.recall
    said = gettext_for(page_language(request, app.settings.home_language))(message)
    return said % values if values else said


def redirect(url: str, said: str | None = None, request: Request | None = None) -> Response:
    """A redirect after a POST; `said`, a message the next page shows (after one not shown yet:
    "saved. Nothing left to call")."""
    response = RedirectResponse(url, status_code=303)
    if said and request is not None:
        flash.leave(response, request, said)
    return response


def safe_next(target: str | None) -> str | None:
    """A place on this site to go back to after logging in, never another site."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


router = APIRouter()
# The clocks a call centre for French customers works on, offered first (any IANA zone is taken).
COMMON_ZONES = ("Europe/Paris", "Europe/Brussels", "Europe/Zurich", "Europe/London",
                "Africa/Casablanca", "Africa/Tunis", "Africa/Dakar", "Indian/Mauritius",
                "Indian/Reunion", "America/Martinique", "America/Guadeloupe", "America/Cayenne",
                "Pacific/Noumea", "Pacific/Tahiti", "America/Montreal")  # fmt: skip


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "") -> Response:
    return render(request, "login.html", next=safe_next(next) or "")


@router.post("/login", dependencies=[Csrf])
def login(
    request: Request,
    app: AppDep,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=200)],
    next: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    try:
        user = authenticate(
            engine=app.engine, username=username, password=password,
            client=client_address(request), clock=app.clock,
        )  # fmt: skip
    except LoginThrottled as exc:
        return render(request, "login.html", 429, error=str(exc), next=safe_next(next) or "")
    except LoginFailed as exc:
        return render(request, "login.html", 401, error=str(exc), next=safe_next(next) or "")
    request.session.clear()  # a fresh session, and a fresh CSRF token, for the new user
    request.session["user"] = user.username
    request.session[CSRF_FIELD] = None
    csrf_token(request)
    return redirect(safe_next(next) or home_of(user.role))


@router.post("/logout", dependencies=[Csrf])
def logout(request: Request) -> Response:
    request.session.clear()
    return redirect("/login")


@router.get("/")
def home(user: UserDep) -> Response:
    return redirect(home_of(user.role))


@router.post("/language", dependencies=[Csrf])
def choose_language(
    request: Request,
    app: AppDep,
    lang: Annotated[str, Form(max_length=8)],
    back: Annotated[str, Form(max_length=500)] = "/",
) -> Response:
    """The console's language: kept with the user once logged in, with the session before."""
    if lang not in LANGUAGES:
        raise Refused(f"language: one of {', '.join(LANGUAGES)}")
    request.session[LANGUAGE_KEY] = lang
    user = session_user(request.scope) if request.session.get("user") else None
    if user is not None:
        set_preferences(engine=app.engine, username=user.username, language=lang)
    return redirect(safe_next(back) or "/")


@router.get("/me", response_class=HTMLResponse)
def my_settings(request: Request, user: UserDep) -> Response:
    return render(request, "me.html", zones=COMMON_ZONES)


@router.post("/me", dependencies=[Csrf])
def save_my_settings(
    request: Request,
    user: UserDep,
    app: AppDep,
    lang: Annotated[str, Form(max_length=8)],
    time_zone: Annotated[str, Form(max_length=40)],
) -> Response:
    """A user's language and the clock the console shows their times on."""
    try:
        set_preferences(engine=app.engine, username=user.username, language=lang,
                        time_zone=time_zone.strip())  # fmt: skip
    except UserError as exc:
        return render(request, "me.html", 400, zones=COMMON_ZONES, error=str(exc))
    request.session[LANGUAGE_KEY] = lang
    return redirect("/me", translate(request, "Saved."), request)
