from django.apps import AppConfig


class FeedbackConfig(AppConfig):
    name = "modules.feedback"
    label = "feedback"
    verbose_name = "Feedback and preferences"
