"""The mail port and its adapters: an SMTP server, or an outbox of .eml files."""
