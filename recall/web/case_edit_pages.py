"""The agent corrects the customer's contacts from the case page: what changed and what it
changed for the case in a flash, each refused value named with its field on the page.

The case page shows the form with the contacts on file (`corrections.contact_card`) and the
customer's other recalls (`other_cases.other_cases`). A value refused is shown back as typed.
"""

from __future__ import annotations

from functools import reduce
from typing import Annotated

from babel import Locale
from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from recall import i18n
from recall.calling.corrections import (
    Contacts,
    ContactsRefused,
    Correction,
    Problem,
    correct_contacts,
)
from recall.domain.addresses import WIDTH
from recall.reach.emails import mail_domain
from recall.web.agent_pages import DESK, _case_page, _open
from recall.web.languages import page_language
from recall.web.pages import redirect, translate
from recall.web.report_words import N_
from recall.web.security import AgentUser, AppDep, CaseId, Csrf, agent_of

TYPED = "typed_contacts"  # request.state: the values refused, shown back in the form

CHANGED = {"phone": N_("phone corrected"), "email": N_("e-mail corrected"),
           "address": N_("address corrected")}  # fmt: skip
FOLLOWED = {
    "back": N_("the case is back on the call list"),
    "do_not_call": N_("the case stays off the call list: the customer asked not to be called"),
    "to_make": N_("a letter will be sent to this address"),
    "not_printed_yet": N_("its letter, not printed yet, will carry the new address"),
    "printed_already": N_("its letter was already printed with the previous address"),
    "returned": N_("its letter came back undelivered and is not sent again"),
}
REFUSED = {
    ("phone", "required"): N_("Phone: type the new number (a number that is not the "
                              "customer's is recorded as a wrong number)"),
    ("phone", "invalid"): N_("Phone: this number is not valid in %(country)s"),
    ("email", "required"): N_("E-mail: type the new address (an address can't be removed "
                              "here)"),
    ("email", "invalid"): N_("E-mail: this address is not valid"),
    ("address", "incomplete"): N_("Address: the number and street, the postal code and the "
                                  "city are all needed"),
    ("postal_code", "foreign"): N_("Postal code: %(code)s is not a postal code of %(country)s"),
    ("address", "too_long"): N_("Address: \"%(line)s\" is longer than %(width)s characters and "
                                "can't be shortened"),
    ("address", "too_many_lines"): N_("Address: too many lines for the envelope's window; put "
                                      "the complements on one line"),
    ("address", "unprintable"): N_("Address: it can't be printed as La Poste asks"),
}  # fmt: skip

router = APIRouter()


@router.post("/cases/{case_id}/contact", dependencies=[Csrf])
def correct(
    request: Request,
    case_id: CaseId,
    user: AgentUser,
    app: AppDep,
    phone: Annotated[str, Form(max_length=64)] = "",
    email: Annotated[str, Form(max_length=320)] = "",
    line1: Annotated[str, Form(max_length=300)] = "",
    line2: Annotated[str, Form(max_length=300)] = "",
    postal_code: Annotated[str, Form(max_length=20)] = "",
    city: Annotated[str, Form(max_length=200)] = "",
    inbound: Annotated[str, Form(max_length=1)] = "",
) -> Response:
    """Correct the contacts of the case's customer: the agent's own case, or on the hotline a
    case their search found."""
    if inbound:
        _open(request, app, user, case_id, inbound=True)  # found by the search, else a 404
    given = Contacts(phone, email, line1, line2, postal_code, city)
    try:
        done = correct_contacts(
            engine=app.engine, agent_id=agent_of(user), case_id=case_id, given=given,
            home_country=app.settings.home_country, sender_language=app.settings.home_language,
            mail_domain=mail_domain(app.settings.mail_from), desk=DESK, clock=app.clock,
        )  # fmt: skip
    except ContactsRefused as refused:
        setattr(request.state, TYPED, given)
        view = _open(request, app, user, case_id, inbound=bool(inbound))
        said = " ".join(_refusal(request, problem, given) for problem in refused.problems)
        return _case_page(request, app, view, bool(inbound), said, 400)
    back = f"/hotline/cases/{case_id}" if inbound else f"/cases/{case_id}"
    return redirect(back, _said_done(request, done), request)


def _said_done(request: Request, done: Correction) -> str:
    """What changed and what it changed for the case, in the user's language ("Téléphone
    corrigé ; le dossier revient sur la liste d'appel.")."""
    if not done.changed:
        return translate(request, "Nothing to correct: these are the details on file.")
    parts = [translate(request, CHANGED[part]) for part in done.changed]
    parts += [translate(request, FOLLOWED[k]) for k in (done.call_list, done.letter) if k]
    if done.email_queued:
        parts.append(translate(request, "the recall's e-mail will be sent to the new address"))
    if done.other_cases:
        ngettext = i18n.ngettext_for(_language(request))
        parts.append(ngettext("%(num)d other open case of this customer is updated too",
                              "%(num)d other open cases of this customer are updated too",
                              done.other_cases) % {"num": done.other_cases})  # fmt: skip
    said = reduce(lambda first, then: translate(request, "%(first)s; %(then)s", first=first,
                                                then=then), parts)  # fmt: skip
    return said[:1].upper() + said[1:] + "."


def _refusal(request: Request, problem: Problem, given: Contacts) -> str:
    """A refused value, its field named, in the user's language."""
    country = problem.value if problem.code in ("invalid", "foreign") else ""
    name = Locale.parse(_language(request)).territories.get(country, country) if country else ""
    message = REFUSED.get((problem.field, problem.code), REFUSED[("address", "unprintable")])
    return translate(request, message, country=name, code=given.stripped().postal_code,
                     line=problem.value, width=WIDTH) + "."  # fmt: skip


def _language(request: Request) -> str:
    return page_language(request, request.app.state.recall.settings.home_language)
