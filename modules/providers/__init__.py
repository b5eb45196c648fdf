"""Providers: the one registry of who does a stage's work (built-in engines or external services),
and the router that chooses among them by capability, the user's preference and health."""
