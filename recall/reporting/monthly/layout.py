"""The report as sections of labelled lines: the one place its wording lives, so that the PDF
and the CSV say the same thing. Labels are gettext message ids (English)."""

from __future__ import annotations

from dataclasses import dataclass

from recall.reporting.monthly.figures import Figure, MonthlyReport

NOT_RECORDED = None  # a figure the firm does not keep (units held by a distributor, ...)
KIND_LABELS = {
    "refund_paid": "Refund paid", "replacement_shipped": "Replacement shipped",
    "repair_done": "Repair done", "returned_to_store": "Returned to a store",
    "collected": "Collected", "destroyed": "Destroyed",
}  # fmt: skip
NOTICE_LABELS = {"phone": "Phone", "email": "E-mail", "mail": "Regular mail", "sms": "SMS"}
CONTACT_LABELS = {"hotline": "Phone (hotline)", "store": "In a store", "web": "Self-service page",
                  "email": "E-mail", "letter": "Regular mail"}  # fmt: skip
INCIDENT_LABELS = {"incidents": "Incidents", "injuries": "Injuries", "deaths": "Deaths"}
PERIOD, CUMULATIVE, AS_OF = "This period", "Cumulative", "As of the report"


@dataclass(frozen=True)
class Line:
    key: str
    label: str
    month: object  # "" when the line has no monthly figure
    total: object  # cumulative, or as of the report; NOT_RECORDED when the firm can't know


@dataclass(frozen=True)
class Section:
    key: str  # the CSV's section
    title: str  # a heading, or "" to go on under the previous one
    columns: tuple[str, str, str]  # what the lines are, this period, since the launch
    lines: list[Line]
    note: str = ""


def sections(report: MonthlyReport) -> list[Section]:
    """Every figure of the report once, in the order of the CPSC's form."""
    return [*_products(report), *_incidents(report), *_notices(report), _checks(report),
            _completion(report)]  # fmt: skip


def _figure(key: str, label: str, figure: Figure) -> Line:
    return Line(key, label, figure.month, figure.cumulative)


def _products(report: MonthlyReport) -> list[Section]:
    agreed = report.agreed
    return [
        Section("products", "I. Products corrected", ("Location of products", PERIOD, CUMULATIVE), [
            Line("affected", "Total products affected by the recall", "", report.units_affected),
            Line("untraceable", "of which untraceable (sold without a loyalty card)", "",
                 report.untraceable_units),
            Line("with_manufacturer", "Corrected, with manufacturer", NOT_RECORDED, NOT_RECORDED),
            Line("with_distributor", "Corrected, with distributor", NOT_RECORDED, NOT_RECORDED),
            Line("with_retailers", "Corrected, with retailers", NOT_RECORDED, NOT_RECORDED),
            _figure("with_consumers", "Corrected, with consumers", report.corrected),
        ], "Units count as corrected when the remedy was carried out, not when it was agreed."),
        Section("corrected_by_remedy", "", ("Corrections by remedy", PERIOD, CUMULATIVE),
                [_figure(f.key, KIND_LABELS[f.key], f) for f in report.corrected_by_kind]),
        Section("agreed_not_done", "", ("Remedies agreed, not carried out yet", "", AS_OF), [
            Line("cases", "Cases", "", agreed.cases),
            Line("units", "Units", "", agreed.units),
            Line("oldest_days", "Oldest waiting (days)", "", _days(agreed.oldest_days)),
            Line("median_days", "Median wait (days)", "", _days(agreed.median_days)),
        ]),
    ]  # fmt: skip


def _incidents(report: MonthlyReport) -> list[Section]:
    lines = []
    for i in report.incidents:
        lines += [
            Line(f"{i.key}.before_recall", f"{INCIDENT_LABELS[i.key]}, occurred before the recall",
                 i.before_month, i.before_total),
            Line(f"{i.key}.after_recall", f"{INCIDENT_LABELS[i.key]}, occurred after the recall",
                 i.after_month, i.after_total),
        ]  # fmt: skip
    return [Section("incidents", "II. Incident update",
                    ("Reported", "This period", "Since the launch"), lines)]  # fmt: skip


def _notices(report: MonthlyReport) -> list[Section]:
    notified = [_figure(f.key, NOTICE_LABELS[f.key], f) for f in report.notified]
    calls = _figure("call_attempts", "Calls made, answered or not", report.attempts)
    contacts = [_figure(f.key, CONTACT_LABELS[f.key], f) for f in report.contacted_firm]
    return [
        Section("notified", "III. Notifications made by the firm and consumer response",
                ("Consumers notified by", PERIOD, CUMULATIVE), notified,
                "A consumer counts as notified when the notice reached them: a letter posted and "
                "not returned, a call that reached them. An unanswered call is an attempt."),
        Section("calls", "", ("Calls", PERIOD, CUMULATIVE), [calls]),
        Section("contacted_firm", "", ("Consumers who contacted the firm about the recall, by",
                                       PERIOD, CUMULATIVE), contacts),
    ]  # fmt: skip


def _checks(report: MonthlyReport) -> Section:
    c = report.checks
    return Section("effectiveness", "IV. Effectiveness check", ("Check", "", AS_OF), [
        Line("level", "Level (share of notified consumers)", "", f"{c.level} ({c.share:.0%})"),
        Line("drawn", "Consumers drawn for a check", "", c.sample),
        Line("checked", "Checks made", "", c.checked),
        Line("answered", "Checks that reached the consumer", "", c.answered),
        Line("received", "Said the notice reached them", "", c.received),
        Line("acted", "Said they acted on it", "", c.acted),
    ])  # fmt: skip


def _completion(report: MonthlyReport) -> Section:
    expected = report.completion_expected
    return Section("completion", "V. Completion", ("Recall", "", AS_OF), [
        Line("cases", "Consumers identified", "", report.cases),
        Line("resolved", "Remedy agreed or product no longer held", "", report.resolved),
        Line("expected_end", "Expected end of the call list", "",
             expected.date() if expected else "not computable"),
        Line("planned_end", "Planned end of the recall", "", report.ends_on or "not set"),
    ])  # fmt: skip


def _days(value: float | None) -> object:
    return "" if value is None else round(value, 1)
