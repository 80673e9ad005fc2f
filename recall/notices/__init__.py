"""Telling the customers: letters (planned, drawn, mailed, returned) and the stores' posters."""
