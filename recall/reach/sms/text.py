"""The SMS notice's words: one GSM-7 segment in the customer's language, with their link.

`templates/scripts/sms-notice.<language>.txt` holds each language's text, with `{product}` and
`{link}`. The link has a fixed length (the page's address, `/r/` and a 24-character token), so
a template that fits one segment with it always does: the product's name is cut to what is left.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from recall.domain.errors import Refused
from recall.domain.gsm7 import SEGMENT, clip, septets, to_gsm7
from recall.domain.page_tokens import TOKEN_LENGTH, page_link

PATTERN = "sms-notice.*.txt"
FIELDS = ("product", "link")


@dataclass(frozen=True)
class NoticeTexts:
    """Every language's template, and the product the notices name."""

    templates: dict[str, str]  # language -> template
    default: str  # the language of a customer whose own has no template
    product: str

    def body(self, language: str, link: str) -> str:
        """The text for one customer, in their language (else the default one)."""
        template = self.templates.get(language) or self.templates[self.default]
        return render(template, product=self.product, link=link)


def render(template: str, *, product: str, link: str) -> str:
    """The text with the product's name (in GSM-7) cut to the room one segment leaves it."""
    bare = template.format_map({"product": "", "link": link})
    room = SEGMENT - (septets(bare) or SEGMENT)
    return template.format_map({"product": clip(to_gsm7(product), room), "link": link})


def load_texts(
    templates_dir: Path, *, home_language: str, product: str, page_base: str
) -> NoticeTexts:
    """Every shipped language's template, each checked to fit one segment with the link."""
    templates = {}
    for path in sorted(templates_dir.glob(PATTERN)):
        language = path.name.split(".")[1]
        templates[language] = path.read_text(encoding="utf-8").strip()
        problem = template_problem(templates[language], page_base)
        if problem:
            raise Refused(f"{path}: {problem}")
    if not templates:
        raise Refused(f"no SMS notice text ({PATTERN}) in {templates_dir}")
    default = next(lang for lang in (home_language, "fr", *templates) if lang in templates)
    return NoticeTexts(templates, default, product)


def template_problem(template: str, page_base: str) -> str | None:
    """What keeps `template` from making one-segment texts with links under `page_base`."""
    link = page_link(page_base, "A" * TOKEN_LENGTH)
    try:
        text = render(template, product="", link=link)
    except (KeyError, IndexError, ValueError) as exc:
        return f"a field other than {{product}} and {{link}}, or a stray brace ({exc})"
    count = septets(text)
    if count is None:
        outside = sorted({c for c in text if septets(c) is None})
        return f"characters outside the GSM-7 alphabet: {' '.join(outside)!r}"
    if count > SEGMENT:
        return f"{count} septets with a {len(link)}-character link: one SMS holds {SEGMENT}"
    return None
