"""The public notice: the text the retailer publishes and the press carries, and the same text
as a static page (templates/notices/public-notice.html) with the product's photo beside it."""

from __future__ import annotations

import shutil
from pathlib import Path

import jinja2

from recall.settings import PROJECT_TEMPLATES

_PAGE = "public-notice.html"
_PHOTO_ALT = {"fr": "Photo du produit rappelé", "en": "Photo of the recalled product"}


def write_public_notice(out: Path, language: str, text: str, image: str) -> list[Path]:
    """public-notice.<language>.txt and .html in `out`; the photo copied beside them."""
    title, *paragraphs = [p.strip() for p in text.split("\n\n") if p.strip()]
    photo = _copied(out, image) if image else ""
    page = _page().render(
        language=language, title=title, paragraphs=paragraphs, image=photo,
        image_alt=_PHOTO_ALT.get(language, _PHOTO_ALT["en"]),
    )  # fmt: skip
    txt, html = out / f"public-notice.{language}.txt", out / f"public-notice.{language}.html"
    txt.write_text(text + "\n", encoding="utf-8")
    html.write_text(page, encoding="utf-8")
    return [txt, html]


def _copied(out: Path, image: str) -> str:
    """The photo beside the page, so the folder publishes as it is; its name for the page."""
    source = Path(image)
    target = out / f"product-photo{source.suffix.lower()}"
    if source.resolve() != target.resolve():
        shutil.copyfile(source, target)
    return target.name


def _page() -> jinja2.Template:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(PROJECT_TEMPLATES / "notices"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    return environment.get_template(_PAGE)
