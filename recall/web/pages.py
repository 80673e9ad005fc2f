"""Rendering pages, and the routes every user shares: logging in and out, the landing page."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from recall.accounts.users import LoginFailed, LoginThrottled, authenticate
from recall.domain.access import home_of
from recall.web.security import CSRF_FIELD, AppDep, Csrf, UserDep, client_address, csrf_token


def render(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    """A page of templates/pages, with the user, the CSRF token and the time it is."""
    pages: Jinja2Templates = request.app.state.pages
    app = request.app.state.recall
    context.setdefault("flash", request.session.pop("flash", None))
    context.update(
        user=getattr(request.state, "user", None),
        csrf=csrf_token(request),
        now=app.clock(),
    )
    return pages.TemplateResponse(request, name, context, status_code=status)


def redirect(url: str, flash: str | None = None, request: Request | None = None) -> Response:
    if flash and request is not None:  # a message not shown yet is kept ("saved. Nothing left")
        pending = request.session.get("flash")
        request.session["flash"] = f"{pending} {flash}" if pending else flash
    return RedirectResponse(url, status_code=303)


def safe_next(target: str | None) -> str | None:
    """A place on this site to go back to after logging in, never another site."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


router = APIRouter()


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
