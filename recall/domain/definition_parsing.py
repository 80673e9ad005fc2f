"""Reading a recall definition from YAML's values, every field checked, every problem named."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from recall.domain.calling import knows_holidays
from recall.domain.definition import (
    CALL_POLICIES,
    HAZARDS,
    NOTICE_CHANNELS,
    REMEDIES,
    SAFE_ID,
    CallingWindow,
    CallPolicy,
    FieldError,
    FollowUpPolicy,
    InvalidDefinition,
    RecallDefinition,
    RecalledProduct,
    parse_days,
    parse_duration,
    parse_hours,
)
from recall.domain.definition_law import legal_problems
from recall.domain.errors import Refused
from recall.domain.lots import LotSpecError, parse_lots
from recall.domain.remedies import CheckPlan, check_plan

_TOP_FIELDS = {
    "id", "title", "hazard", "products", "sold_from", "sold_to", "stores",
    "remedies", "call_policy", "call", "product_name", "risk", "hotline", "follow_up",
    "single_remedy_reason", "category", "brand", "model", "image", "lot_location", "ends_on",
    "effectiveness", "notify", "call_after",
}  # fmt: skip
_CALL_FIELDS = {
    "max_attempts", "retry_after", "calling_hours", "timezone", "voicemail_notifies", "holidays",
}  # fmt: skip
_FOLLOW_UP_FIELDS = {"call_letters_after", "callback_grace", "contact_sla", "retention"}


class _Checker:
    """Collects field errors so the quality lead sees all of them at once."""

    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def fail(self, name: str, message: str) -> None:
        self.errors.append(FieldError(name, message))

    def text(self, raw: dict[str, Any], name: str, *, required: bool = True) -> str:
        value = raw.get(name)
        if value is None or str(value).strip() == "":
            if required:
                self.fail(name, "is required")
            return ""
        if not isinstance(value, str | int):
            self.fail(name, f"must be text, got {type(value).__name__}")
            return ""
        return str(value).strip()

    def choice(self, raw: dict[str, Any], name: str, options: tuple[str, ...], default: str) -> str:
        value = raw.get(name, default)
        if value not in options:
            self.fail(name, f"must be one of {', '.join(options)}, got {value!r}")
            return default
        return str(value)

    def date(self, raw: dict[str, Any], name: str) -> dt.date | None:
        value = raw.get(name)
        if value is None:
            self.fail(name, "is required (a date like 2026-01-31)")
            return None
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(str(value).strip())
        except ValueError:
            self.fail(name, f"{value!r} is not a date like 2026-01-31")
            return None

    def unknown(self, raw: dict[str, Any], known: set[str], prefix: str = "") -> None:
        for name in sorted(set(raw) - known):
            self.fail(f"{prefix}{name}", "is not a known field (misspelt?)")


def _products(check: _Checker, raw: Any) -> tuple[RecalledProduct, ...]:
    if not isinstance(raw, list) or not raw:
        check.fail("products", "must list at least one product with its sku")
        return ()
    products: list[RecalledProduct] = []
    seen: set[str] = set()
    for i, item in enumerate(raw):
        where = f"products[{i}]"
        if not isinstance(item, dict):
            check.fail(where, "must be a mapping with sku and optional lots")
            continue
        check.unknown(item, {"sku", "lots"}, f"{where}.")
        sku = check.text(item, "sku") if "sku" in item else ""
        if not sku:
            check.fail(f"{where}.sku", "is required")
            continue
        if sku in seen:
            check.fail(f"{where}.sku", f"{sku!r} is listed twice")
        seen.add(sku)
        patterns = item.get("lots") or []
        if not isinstance(patterns, list):
            check.fail(f"{where}.lots", 'must be a list like ["L4410..L4420", "L4433"]')
            continue
        try:
            selector = parse_lots(str(p) for p in patterns)
        except LotSpecError as exc:
            check.fail(f"{where}.lots", str(exc))
            continue
        products.append(RecalledProduct(sku, selector, tuple(str(p) for p in patterns)))
    return tuple(products)


def _calling_hours(check: _Checker, raw: Any) -> tuple[CallingWindow, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        check.fail("call.calling_hours", 'must map days to hours, like {mon-fri: "09:00-20:00"}')
        return ()
    windows: list[CallingWindow] = []
    for days, hours in raw.items():
        where = f"call.calling_hours.{days}"
        try:
            start, end = parse_hours(hours)
            windows.extend(CallingWindow(d, start, end) for d in parse_days(days))
        except ValueError as exc:
            check.fail(where, str(exc))
    return tuple(sorted(windows, key=lambda w: (w.weekday, w.start)))


def _call_policy(check: _Checker, raw: Any) -> CallPolicy:
    if raw is None:
        return CallPolicy()
    if not isinstance(raw, dict):
        check.fail("call", "must be a mapping (max_attempts, retry_after, calling_hours, timezone)")
        return CallPolicy()
    check.unknown(raw, _CALL_FIELDS, "call.")
    defaults = CallPolicy()
    attempts = raw.get("max_attempts", defaults.max_attempts)
    if not isinstance(attempts, int) or isinstance(attempts, bool) or attempts < 1:
        check.fail("call.max_attempts", f"must be a whole number of at least 1, got {attempts!r}")
        attempts = defaults.max_attempts
    retry = defaults.retry_after
    if "retry_after" in raw:
        try:
            retry = parse_duration(raw["retry_after"])
        except ValueError as exc:
            check.fail("call.retry_after", str(exc))
    zone = str(raw.get("timezone", defaults.timezone))
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        check.fail("call.timezone", f"{zone!r} is not a time zone like Europe/Paris")
        zone = defaults.timezone
    hours = _calling_hours(check, raw.get("calling_hours"))
    voicemail = raw.get("voicemail_notifies", False)
    if not isinstance(voicemail, bool):
        check.fail("call.voicemail_notifies", f"must be true or false, got {voicemail!r}")
        voicemail = False
    holidays = _holidays(check, raw.get("holidays", True))
    return CallPolicy(attempts, retry, hours, zone, voicemail, holidays)


def _holidays(check: _Checker, raw: Any) -> bool | tuple[str, ...]:
    """true: each customer's country's public holidays; false: none; [FR, BE]: those."""
    if isinstance(raw, bool):
        return raw
    codes = [str(c).strip().upper() for c in raw] if isinstance(raw, list) else []
    unknown = [c for c in codes if not knows_holidays(c)]
    if not codes or unknown:
        got = f"{', '.join(unknown)} not known" if unknown else f"got {raw!r}"
        check.fail(
            "call.holidays",
            "must be true (the customer's country), false (none) or a list of country codes "
            f"like [FR, BE]: {got}",
        )
        return True
    return tuple(dict.fromkeys(codes))


def _follow_up(check: _Checker, raw: Any) -> FollowUpPolicy:
    if raw is None:
        return FollowUpPolicy()
    if not isinstance(raw, dict):
        check.fail("follow_up", f"must be a mapping ({', '.join(sorted(_FOLLOW_UP_FIELDS))})")
        return FollowUpPolicy()
    check.unknown(raw, _FOLLOW_UP_FIELDS, "follow_up.")
    values: dict[str, dt.timedelta] = {}
    for name in _FOLLOW_UP_FIELDS & set(raw):
        try:
            values[name] = parse_duration(raw[name])
        except ValueError as exc:
            check.fail(f"follow_up.{name}", str(exc))
    return FollowUpPolicy(**values)


def _string_list(check: _Checker, raw: Any, name: str) -> list[str]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        check.fail(name, "must be a list")
        return []
    return [str(v).strip() for v in raw]


def parse_definition(
    raw: Any,
    source: str = "recall definition",
    *,
    minimising: Iterable[str] | None = None,
    retailer_hotline: str = "",
) -> RecallDefinition:
    """Validate a loaded YAML document; raise InvalidDefinition listing every field error.

    With `minimising` (the words a notice must not use), a new definition is also held to
    what the law asks of a recall notice; a stored one is read as it was accepted.
    """
    check = _Checker()
    if not isinstance(raw, dict):
        raise InvalidDefinition([FieldError("(document)", "must be a mapping of fields")], source)
    check.unknown(raw, _TOP_FIELDS)
    recall_id = check.text(raw, "id")
    if recall_id and not SAFE_ID.fullmatch(recall_id):
        check.fail("id", f"{recall_id!r} may hold only letters, digits, '.', '_' and '-'")
    title = check.text(raw, "title")
    hazard = check.choice(raw, "hazard", HAZARDS, "high")
    if "hazard" not in raw:
        check.fail("hazard", f"is required ({', '.join(HAZARDS)})")
    products = _products(check, raw.get("products"))
    sold_from, sold_to = check.date(raw, "sold_from"), check.date(raw, "sold_to")
    if sold_from and sold_to and sold_to < sold_from:
        check.fail("sold_to", f"{sold_to} is before sold_from {sold_from}")
    stores = _string_list(check, raw.get("stores"), "stores")
    remedies = _string_list(check, raw.get("remedies", list(REMEDIES)), "remedies")
    for bad in [r for r in remedies if r not in REMEDIES]:
        check.fail("remedies", f"{bad!r} is not a remedy ({', '.join(REMEDIES)})")
    if not remedies:
        check.fail("remedies", "must offer at least one remedy")
    policy = check.choice(raw, "call_policy", CALL_POLICIES, "without_letter")
    call = _call_policy(check, raw.get("call"))
    product_name = check.text(raw, "product_name", required=False)
    hotline = check.text(raw, "hotline", required=False)
    risk = _risk(check, raw.get("risk"))
    follow_up = _follow_up(check, raw.get("follow_up"))
    single_reason = check.text(raw, "single_remedy_reason", required=False)
    product = {name: check.text(raw, name, required=False)
               for name in ("category", "brand", "model", "image")}  # fmt: skip
    lot_location = _per_language(check, raw.get("lot_location"), "lot_location")
    ends_on = check.date(raw, "ends_on") if raw.get("ends_on") is not None else None
    effectiveness = _effectiveness(check, raw.get("effectiveness"), hazard)
    notify = _notify(check, raw.get("notify", ["email", "letter"]))
    call_after = dt.timedelta(0)
    try:
        call_after = parse_duration(raw.get("call_after", "0h"))
    except ValueError as exc:
        check.fail("call_after", str(exc))
    if minimising is not None:
        check.errors.extend(legal_problems(raw, minimising, retailer_hotline=retailer_hotline))
    if check.errors or sold_from is None or sold_to is None:
        raise InvalidDefinition(check.errors, source)
    return RecallDefinition(
        id=recall_id,
        title=title,
        hazard=hazard,
        products=products,
        sold_from=sold_from,
        sold_to=sold_to,
        stores=frozenset(stores),
        remedies=tuple(dict.fromkeys(remedies)),
        call_policy=policy,
        call=call,
        product_name=product_name,
        risk=risk,
        hotline=hotline,
        follow_up=follow_up,
        single_remedy_reason=single_reason,
        lot_location=lot_location,
        ends_on=ends_on,
        effectiveness=effectiveness,
        notify=notify,
        call_after=call_after,
        **product,
    )


def _notify(check: _Checker, raw: Any) -> tuple[str, ...]:
    """`notify: [email, sms, letter]`: the notices sent, e-mail and SMS tried in that order."""
    channels = _string_list(check, raw, "notify")
    for bad in [c for c in channels if c not in NOTICE_CHANNELS]:
        check.fail("notify", f"{bad!r} is not a notice ({', '.join(NOTICE_CHANNELS)})")
    if isinstance(raw, list) and not channels:
        check.fail("notify", "must name at least one notice")
    return tuple(dict.fromkeys(c for c in channels if c in NOTICE_CHANNELS))


def _effectiveness(check: _Checker, raw: Any, hazard: str) -> CheckPlan:
    """`effectiveness: {level: C}` or `{level: B, share: 0.3}`; absent: the hazard's level."""
    if raw is None:
        return check_plan(None, hazard)
    if not isinstance(raw, dict) or set(raw) - {"level", "share"}:
        check.fail("effectiveness", "must be a mapping with level (A to E) and, for B, share")
        return check_plan(None, hazard)
    share = raw.get("share")
    if share is not None and (
        isinstance(share, bool) or not isinstance(share, int | float) or not 0 < share < 1
    ):
        check.fail("effectiveness.share", f"must be a fraction between 0 and 1, got {share!r}")
        share = None
    try:
        return check_plan(str(raw.get("level") or "") or None, hazard, share)
    except Refused as exc:
        check.fail("effectiveness", str(exc))
        return check_plan(None, hazard)


def _risk(check: _Checker, raw: Any) -> dict[str, str]:
    """`risk: "text"` or `risk: {fr: "texte", en: "text"}`."""
    return _per_language(check, raw, "risk")


def _per_language(check: _Checker, raw: Any, name: str) -> dict[str, str]:
    """`name: "text"` or `name: {fr: "texte", en: "text"}`."""
    if raw is None:
        return {}
    if isinstance(raw, str) and raw.strip():
        return {"": raw.strip()}
    if isinstance(raw, dict) and raw:
        texts = {}
        for language, text in raw.items():
            if not isinstance(text, str) or not text.strip():
                check.fail(f"{name}.{language}", "must be a non-empty text")
            else:
                texts[str(language).lower()] = text.strip()
        return texts
    check.fail(name, "must be a text, or a text per language like {fr: ..., en: ...}")
    return {}
