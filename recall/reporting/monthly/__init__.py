"""The monthly progress report a regulator asks for, in the structure of the US CPSC's
"Monthly Progress Report for Corrective Action Plans" (products corrected by location,
incident update, notifications made and consumer response), with what the FDA's status
reports add (21 CFR 7.53: units still out, effectiveness checks and their results, estimated
completion): `monthly_report` counts the figures, `write_monthly_report` writes them as a PDF
and a CSV in French or English.
"""

from recall.reporting.monthly.figures import MonthlyReport, month_bounds, monthly_report
from recall.reporting.monthly.files import MonthlyFiles, write_monthly_report

__all__ = [
    "MonthlyFiles",
    "MonthlyReport",
    "month_bounds",
    "monthly_report",
    "write_monthly_report",
]
