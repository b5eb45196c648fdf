"""Content moderation: the check on prompts, user lyrics and generated lyrics."""
