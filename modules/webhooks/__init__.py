"""Webhooks: signed deliveries of composition events to integrators' URLs."""
