"""A text message's delivery status as the provider reports it: never backwards.

Providers retry their status callbacks and may deliver them out of order ("sent" after
"delivered"): a status is applied only when it moves the message on.
"""

from __future__ import annotations

MESSAGE_RANK = {
    status: rank
    for rank, status in enumerate(["accepted", "queued", "sending", "sent", "delivered", "read"])
}
# "cancelled" is ours: a notice never sent (the customer answered first, or asked for no calls).
MESSAGE_FINAL = {"undelivered", "failed", "canceled", "cancelled"}
ARRIVED = ("delivered", "read")


def moves_forward(old: str, new: str) -> bool:
    """Whether status `new` is news for a message at `old`; a final status stays final."""
    if old == new or old in MESSAGE_FINAL or (old in ARRIVED and new != "read"):
        return False
    if new in MESSAGE_FINAL:
        return True
    return MESSAGE_RANK.get(new, -1) > MESSAGE_RANK.get(old, -1)
