"""An HTTP client for the twilio SDK that sends its requests to another base address."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response


class RedirectingHttpClient(TwilioHttpClient):
    """Sends every request meant for a *.twilio.com host to the same path on `api_base`."""

    # Tests and a self-hosted stand-in of Twilio's REST API drive the real SDK through this
    # client; production leaves api_base unset and keeps the SDK's own TwilioHttpClient.
    def __init__(self, api_base: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.api_base = api_base.rstrip("/")

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        """Make the SDK's request, to `api_base` instead of Twilio."""
        return super().request(method, self.redirect(url), *args, **kwargs)

    def redirect(self, url: str) -> str:
        """The URL on `api_base` for a Twilio URL; any other URL unchanged."""
        parts = urlsplit(url)
        host = parts.hostname or ""
        if host != "twilio.com" and not host.endswith(".twilio.com"):
            return url
        base = urlsplit(self.api_base)
        # Region and edge hosts (api.dublin.ie1.twilio.com) land here too: only the path counts.
        return urlunsplit((base.scheme, base.netloc, base.path + parts.path, parts.query, ""))
