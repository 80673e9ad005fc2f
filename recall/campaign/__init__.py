"""A recall as a whole: its definition registered, its launch from the console, the events
of its cases."""
