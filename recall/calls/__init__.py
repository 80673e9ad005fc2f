"""Working the call list on paper or in another dialer."""
