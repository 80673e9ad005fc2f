"""Telephony: placing calls and text messages through a provider."""
