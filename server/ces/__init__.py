"""ces: a self-hostable in-app Customer Effort Score system."""

__version__ = "0.1.0"
