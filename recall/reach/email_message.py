"""The e-mail notice: the letter's text in the customer's language, as plain text and HTML,
with the customer's self-service link; composed fast enough for a few hundred thousand.

What every customer shares (the recall's sections, the subject) is rendered once per language;
only the personal sections are rendered per message, and the MIME parts are assembled by hand
(base64 bodies, RFC 2047 subject) rather than by the slower `email` package policy machinery.
"""

from __future__ import annotations

import binascii
import datetime as dt
import html
from dataclasses import dataclass, field
from email.header import Header
from email.utils import format_datetime, formataddr, parseaddr
from functools import cache, cached_property, lru_cache
from pathlib import Path
from typing import Any

import yaml

from recall.domain import letters as rules
from recall.domain.page_tokens import make_token, page_link
from recall.mail.port import Outgoing
from recall.notices.templates import Template, TemplateSet
from recall.notices.text import Block, parse

# The letter's sections the e-mail carries; its own words say how to answer (no QR code, no
# "this letter" to bring to a store), from templates/notices/email.yaml.
SECTIONS = ("title", "subject", "opening", "body", "signature")
_BOUNDARY = "=_recall_notice_part"


@dataclass(frozen=True)
class Recipient:
    """One case's fields for its e-mail, read in bulk from the database."""

    case_id: int
    case_ref: str
    message_id: str
    language: str
    email: str
    first_name: str | None
    last_name: str | None
    quantity: int
    lots: str
    stores: str
    first_purchase: dt.date


@dataclass
class EmailComposer:
    """Everything the recall's e-mails share, and the per-language parts made once."""

    templates: TemplateSet
    shared: dict[str, dict[str, Any]]  # letter_fields.shared_fields: per language
    stores: dict[str, tuple[str, str]]
    sender: str  # From: "Name <address>"
    page_base: str
    key: bytes
    words_file: Path
    _languages: dict[str, _Language] = field(default_factory=dict)

    def compose(self, to: Recipient, now: dt.datetime) -> Outgoing:
        """The message's envelope and bytes."""
        language = self._language(to.language)
        link = page_link(self.page_base, make_token(to.case_id, self.key))
        context = {
            **language.shared,
            **_personal(to, self.stores, language.code),
            "page_link": link,
        }
        sections = {name: language.template.render(name, context) for name in language.personal}
        text_parts = [sections.get(n) or language.fixed_text[n] for n in SECTIONS]
        html_parts = [
            _html(sections[n]) if n in sections else language.fixed_html[n] for n in SECTIONS
        ]
        answer = language.words["answer"].format(case_ref=to.case_ref, **language.contact)
        body_text = _text_body(text_parts, link, answer, language.words)
        body_html = _html_body(html_parts, link, answer, language)
        headers = (
            f"From: {self.sender}\r\nTo: {formataddr((_name(to), to.email))}\r\n"
            f"Subject: {language.subject}\r\nDate: {format_datetime(now)}\r\n"
            f"Message-ID: {to.message_id}\r\nContent-Language: {language.code}\r\n"
            f"X-Recall-Case: {to.case_ref}\r\nAuto-Submitted: auto-generated\r\n"
            f"MIME-Version: 1.0\r\n"
            f'Content-Type: multipart/alternative; boundary="{_BOUNDARY}"\r\n\r\n'
        )
        data = headers.encode("utf-8") + _parts(body_text, body_html)
        return Outgoing(self.envelope_sender, to.email, data)

    @cached_property
    def envelope_sender(self) -> str:
        """The sender's bare address, for the envelope's MAIL FROM."""
        return parseaddr(self.sender)[1]

    def _language(self, code: str) -> _Language:
        found = self._languages.get(code)
        if found is None:
            found = self._languages[code] = _Language.of(self, code)
        return found


@dataclass(frozen=True)
class _Language:
    code: str
    template: Template
    shared: dict[str, Any]
    words: dict[str, str]
    contact: dict[str, str]  # the hotline and its hours, for the words on how to answer
    subject: str  # encoded for the header
    personal: tuple[str, ...]  # the sections rendered per message
    fixed_text: dict[str, str]
    fixed_html: dict[str, str]

    @classmethod
    def of(cls, composer: EmailComposer, wanted: str) -> _Language:
        template = composer.templates.get("letter", wanted)
        code = template.language
        shared = composer.shared.get(code) or next(iter(composer.shared.values()))
        words = email_words(composer.words_file).get(code) or email_words(composer.words_file)["fr"]
        personal = tuple(n for n in SECTIONS if template.sections[n].personal)
        fixed = {n: template.render(n, shared) for n in SECTIONS if n not in personal}
        subject = words["subject"].format(product=shared["product_name"])
        contact = {"hotline": shared["hotline"], "hotline_hours": shared["hotline_hours"]}
        return cls(
            code, template, shared, words, contact, Header(subject, "utf-8").encode(), personal,
            {**{n: "" for n in personal}, **fixed}, {n: _html(t) for n, t in fixed.items()},
        )  # fmt: skip


@cache
def email_words(path: Path) -> dict[str, dict[str, str]]:
    """templates/notices/email.yaml: per language, the words around the letter's text."""
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _personal(to: Recipient, stores: dict[str, tuple[str, str]], language: str) -> dict:
    bought_at = [stores.get(s, (s, "")) for s in to.stores.split(",") if s]
    return {
        "salutation": rules.salutation(to.first_name, to.last_name, language),
        "first_name": to.first_name or "",
        "last_name": to.last_name or "",
        "customer_id": "",
        "case_ref": to.case_ref,
        "quantity": to.quantity,
        "lots": to.lots.replace(",", ", "),
        "purchase_date": rules.short_date(to.first_purchase, language),
        "store_name": ", ".join(name for name, _ in bought_at) or "-",
        "store_city": ", ".join(dict.fromkeys(city for _, city in bought_at if city)),
        "address": [],
        "reference_line": rules.reference_line(to.case_ref, language),
    }


def _name(to: Recipient) -> str:
    return " ".join(p for p in (to.first_name, to.last_name) if p)


def _text_body(parts: list[str], link: str, answer: str, words: dict[str, str]) -> str:
    plain = [_plain(p) for p in parts if p]
    online = f"{words['answer_online']}\n{link}\n\n{_plain(answer)}"
    return "\n\n".join([*plain[:4], online, *plain[4:], words["why"]]) + "\n"


@lru_cache(maxsize=64)  # the recall's own sections come back in every message
def _plain(text: str) -> str:
    """The letter's markup as plain text: no stars, headings as their own line."""
    lines = (line[2:] if line.startswith("# ") else line for line in text.splitlines())
    return "\n".join(lines).replace("**", "")


def _html_body(parts: list[str], link: str, answer: str, language: _Language) -> str:
    words, href = language.words, html.escape(link)
    button = (
        f'<p style="margin:24px 0"><a href="{href}" style="background:#0b4f8a;'
        f"color:#ffffff;padding:12px 20px;text-decoration:none;border-radius:4px;"
        f'font-weight:bold;display:inline-block">{html.escape(words["button"])}</a></p>'
        f"<p>{html.escape(words['answer_online'])}<br>"
        f'<a href="{href}" style="word-break:break-all">{href}</a></p>'
        f"{_html(answer)}"
    )
    title = parts[0].replace("<p>", '<h1 style="font-size:22px">', 1).replace("</p>", "</h1>")
    body = "".join([title, *parts[1:4], button, *parts[4:]])
    return (
        f'<!DOCTYPE html><html lang="{language.code}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(language.shared['recall_title'])}</title></head>"
        f'<body style="font-family:Arial,sans-serif;font-size:16px;line-height:1.5;'
        f'color:#1a1a1a;max-width:640px;margin:0 auto;padding:16px">{body}'
        f'<p style="color:#4a4a4a;font-size:14px">{html.escape(words["why"])}</p></body></html>'
    )


def _html(text: str) -> str:
    """The letter's little markup (headings, bullets, bold) as HTML; lines of one paragraph
    kept together."""
    out: list[str] = []
    items: list[str] = []
    lines: list[str] = []

    def close() -> None:
        if items:
            out.append(f"<ul>{''.join(items)}</ul>")
            items.clear()
        if lines:
            out.append(f"<p>{'<br>'.join(lines)}</p>")
            lines.clear()

    for block in parse(text):
        if (block.kind != "bullet" and items) or (block.kind != "para" and lines):
            close()
        if block.kind == "bullet":
            items.append(f"<li>{_runs(block)}</li>")
        elif block.kind == "heading":
            out.append(f'<h2 style="font-size:18px">{_runs(block)}</h2>')
        elif block.kind == "para":
            lines.append(_runs(block))
    close()
    return "".join(out)


def _runs(block: Block) -> str:
    return "".join(
        f"<strong>{html.escape(text)}</strong>" if bold else html.escape(text)
        for text, bold in block.runs
    )


def _base64(data: bytes) -> bytes:
    """`data` in base64 lines of 76 characters, each ending in CRLF (as base64.encodebytes
    writes them, in two thirds of its time)."""
    encoded = binascii.b2a_base64(data, newline=False)
    lines = [encoded[n : n + 76] for n in range(0, len(encoded), 76)]
    return b"\r\n".join(lines) + b"\r\n" if lines else b""


def _parts(text: str, markup: str) -> bytes:
    def part(kind: str, body: str) -> bytes:
        encoded = _base64(body.encode("utf-8"))
        head = (
            f"--{_BOUNDARY}\r\nContent-Type: {kind}; charset=utf-8\r\n"
            "Content-Transfer-Encoding: base64\r\n\r\n"
        )
        return head.encode() + encoded

    return part("text/plain", text) + part("text/html", markup) + f"--{_BOUNDARY}--\r\n".encode()
