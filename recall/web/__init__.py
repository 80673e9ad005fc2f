"""The web side: Twilio's webhooks (and, later, the console)."""
