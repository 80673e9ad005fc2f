"""SMS notices: sent through the telephony port within the calling hours, one GSM-7 segment
each with the customer's self-service link, and their delivery reported back by the provider."""

from recall.reach.sms.sending import NOTICE, SmsReport, SmsSettings, send_sms_notices
from recall.reach.sms.status import message_purpose, record_notice_status

__all__ = [
    "NOTICE",
    "SmsReport",
    "SmsSettings",
    "message_purpose",
    "record_notice_status",
    "send_sms_notices",
]
