"""The customer's self-service page, public and without JavaScript: `/r/<token>` (and
`/R/<token>`, as QR codes hold links in upper case).

A link that names no open case (forged, mistyped, a closed or purged recall) answers one and
the same 404 page; the customer's details and the answer form wait for their postal code.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass, field
from typing import Annotated, Any

from babel.dates import format_date
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from recall.bootstrap import App
from recall.db.secrets import page_key
from recall.i18n import gettext_for
from recall.selfservice.answers import record_web_answer
from recall.selfservice.checks import Answer, AnswerRefused
from recall.selfservice.page import (
    Confirmation,
    PageUnavailable,
    SelfServicePage,
    case_of,
    confirm_postal_code,
    open_page,
    page_language,
)
from recall.web.security import AppDep, client_address
from recall.web.self_service_guard import (
    CONFIRMED_COOKIE,
    CONFIRMED_FOR,
    CSRF_COOKIE,
    RateLimiter,
    confirmed_value,
    csrf_field,
    csrf_nonce,
    csrf_ok,
    is_confirmed,
    set_cookie,
)

WINDOW = 300.0  # seconds
PER_ADDRESS = 120  # requests per window from one address (a mobile operator's shared one)
PER_TOKEN = 30  # requests per window on one link: a customer needs about five
SHORT = Annotated[str, Form(max_length=200)]
TEXT = Annotated[str, Form(max_length=2000)]
_limits_made = threading.Lock()

router = APIRouter()


@dataclass(frozen=True)
class PageLimits:
    address: RateLimiter = field(default_factory=lambda: RateLimiter(PER_ADDRESS, WINDOW))
    token: RateLimiter = field(default_factory=lambda: RateLimiter(PER_TOKEN, WINDOW))


@dataclass(frozen=True)
class Visit:
    """One request on a link: the link as signed, this browser's CSRF value, its confirmation."""

    token: str
    key: bytes
    nonce: str
    new_nonce: bool
    confirmed: bool
    secure: bool


@dataclass(frozen=True)
class FormState:
    """What the customer sent, given back with what to fix (field -> message id)."""

    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


@router.get("/r/{token}", response_class=HTMLResponse)
@router.get("/R/{token}", response_class=HTMLResponse)
def page(request: Request, token: str, app: AppDep) -> Response:
    if slowed := _slowed(request, token):
        return slowed
    visit = _visit(request, app, token)
    try:
        view = _open(app, visit, request.query_params.get("lang"))
    except PageUnavailable:
        return unavailable(request)
    return _show(request, "page.html", view, visit)


@router.post("/r/{token}/confirm", response_class=HTMLResponse)
def confirm(
    request: Request, token: str, app: AppDep, csrf: SHORT = "", postal_code: SHORT = "",
    lang: SHORT = "",
) -> Response:  # fmt: skip
    visit = _posted(request, app, token, csrf)
    if isinstance(visit, Response):
        return visit
    try:
        said = confirm_postal_code(
            engine=app.engine, token=token, postal_code=postal_code, clock=app.clock
        )
        if said == Confirmation.CONFIRMED:
            return _confirmed(app, visit, lang)
        view = _open(app, visit, lang, confirmed=False)
    except PageUnavailable:
        return unavailable(request)
    if said == Confirmation.LOCKED:
        return _show(request, "page.html", view, visit, 429, locked=True)
    wrong = FormState(errors={"postal_code": "This postal code is not the one we have."})
    return _show(request, "page.html", view, visit, 400, form=wrong)


@router.post("/r/{token}/answer", response_class=HTMLResponse)
def answer(
    request: Request, token: str, app: AppDep, csrf: SHORT = "", possession: SHORT = "",
    remedy: SHORT = "", store_id: SHORT = "", delivery_address: TEXT = "",
    callback_slot: SHORT = "", phone: SHORT = "", email: SHORT = "", lang: SHORT = "",
) -> Response:  # fmt: skip
    visit = _posted(request, app, token, csrf)
    if isinstance(visit, Response):
        return visit
    if not visit.confirmed:  # the confirmation ran out: the postal code again, then the answer
        return _to(f"/r/{visit.token}", lang)
    given = Answer(possession, remedy, store_id, delivery_address, callback_slot, phone, email,
                   page_language(None, lang))  # fmt: skip
    try:
        return _record(request, app, visit, given)
    except PageUnavailable:
        return unavailable(request)


def _record(request: Request, app: App, visit: Visit, given: Answer) -> Response:
    """The answer recorded, then the thanks (a redirect: a reload sends nothing again)."""
    case_id = case_of(engine=app.engine, token=visit.token)
    try:
        done = record_web_answer(engine=app.engine, case_id=case_id, answer=given, clock=app.clock)
    except AnswerRefused as refused:
        state = FormState(_sent(given), {refused.field: str(refused)})
        view = _open(app, visit, given.language)
        return _show(request, "page.html", view, visit, 400, form=state)
    if done.recorded:
        return _to(f"/r/{visit.token}/thanks", given.language)
    view = _open(app, visit, given.language)
    return _show(request, "thanks.html", view, visit, 409, already=True)


@router.get("/r/{token}/thanks", response_class=HTMLResponse)
def thanks(request: Request, token: str, app: AppDep) -> Response:
    if slowed := _slowed(request, token):
        return slowed
    visit = _visit(request, app, token)
    lang = request.query_params.get("lang")
    if not visit.confirmed:
        return _to(f"/r/{visit.token}", lang)
    try:
        view = _open(app, visit, lang)
    except PageUnavailable:
        return unavailable(request)
    return _show(request, "thanks.html", view, visit)


def _confirmed(app: App, visit: Visit, lang: str) -> Response:
    """Back to the page, now with the answer form, for a while."""
    back = _to(f"/r/{visit.token}", lang)
    value = confirmed_value(visit.key, visit.token, visit.nonce, app.clock().timestamp())
    set_cookie(back, CONFIRMED_COOKIE, value, secure=visit.secure, age=CONFIRMED_FOR)
    return back


def unavailable(request: Request) -> Response:
    """The one answer to every link that names no open case: same status, same words."""
    return _plain(request, "unavailable.html", 404)


def _visit(request: Request, app: App, token: str) -> Visit:
    key, (nonce, new) = page_key(app.engine), csrf_nonce(request)
    signed = token.strip().upper()
    confirmed = not new and is_confirmed(request, key, signed, app.clock().timestamp())
    return Visit(signed, key, nonce, new, confirmed, app.settings.secure_cookies)


def _open(
    app: App, visit: Visit, language: str | None, *, confirmed: bool | None = None
) -> SelfServicePage:
    return open_page(
        engine=app.engine, token=visit.token, clock=app.clock, language=language,
        confirmed=visit.confirmed if confirmed is None else confirmed,
    )  # fmt: skip


def _posted(request: Request, app: App, token: str, csrf: str) -> Visit | Response:
    """The visit a form was posted in; a 429 past the limits, a 403 without its CSRF token."""
    if slowed := _slowed(request, token):
        return slowed
    visit = _visit(request, app, token)
    if not csrf_ok(request, visit.key, visit.token, csrf):
        return _plain(request, "refused.html", 403)
    return visit


def _slowed(request: Request, token: str) -> Response | None:
    """A 429 once the address or the link asked too often in the window; else None."""
    limits = _limits(request)
    if limits.address.allow(client_address(request)) and limits.token.allow(token.upper()[:40]):
        return None
    slowed = _plain(request, "slowed.html", 429)
    slowed.headers["Retry-After"] = str(int(WINDOW))
    return slowed


def _limits(request: Request) -> PageLimits:
    """The limits of this application, made on first use (each process counts its own)."""
    state = request.app.state
    with _limits_made:
        limits = getattr(state, "page_limits", None)
        if limits is None:
            limits = state.page_limits = PageLimits()
    return limits


def _show(
    request: Request, name: str, view: SelfServicePage, visit: Visit, status: int = 200,
    **context: Any,
) -> Response:  # fmt: skip
    """A page of templates/pages/selfservice in the page's language, with its form's CSRF."""
    lang = view.language
    context.setdefault("form", FormState())
    context.update(
        view=view, lang=lang, _=gettext_for(lang),
        csrf=csrf_field(visit.key, visit.token, visit.nonce),
        here=f"/r/{view.token}" + ("/thanks" if name == "thanks.html" else ""),
        hotline=view.hotline or request.app.state.recall.settings.hotline,
        day=lambda day: format_date(day, "EEEE d MMMM", locale=lang),
        when=lambda code: _slot_words(code, lang),
    )  # fmt: skip
    shown = _render(request, name, status, context)
    if visit.new_nonce:
        set_cookie(shown, CSRF_COOKIE, visit.nonce, secure=visit.secure, age=None)
    return shown


def _plain(request: Request, name: str, status: int) -> Response:
    """A page that says the same to everyone, in French and English: no link, no cookie."""
    return _render(request, name, status, {"lang": "fr", "_": gettext_for("fr")})


def _render(request: Request, name: str, status: int, context: dict[str, Any]) -> Response:
    pages: Jinja2Templates = request.app.state.public_pages
    shown = pages.TemplateResponse(request, f"selfservice/{name}", context, status_code=status)
    return _private(shown)


def _private(response: Response) -> Response:
    """Nothing kept by a cache, nothing told to another site, nothing indexed."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _to(url: str, lang: str | None) -> Response:
    target = f"{url}?lang={lang}" if lang in ("fr", "en") else url
    return _private(RedirectResponse(target, status_code=303))


def _sent(given: Answer) -> dict[str, str]:
    """The form's values to show again (the CSRF value is made anew)."""
    return {name: str(value) for name, value in given.__dict__.items()}


def _slot_words(code: str | None, lang: str) -> str:
    """`2026-12-07 morning` as the customer reads it: "lundi 7 décembre, matin"."""
    day, _, part = (code or "").partition(" ")
    try:
        date = dt.date.fromisoformat(day)
    except ValueError:
        return code or ""
    return f"{format_date(date, 'EEEE d MMMM', locale=lang)}, {gettext_for(lang)(part)}"
