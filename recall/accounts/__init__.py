"""Console users, their logins and their sessions."""
