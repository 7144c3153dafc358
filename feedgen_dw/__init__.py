"""feedgen-dw: one feed item per new section of a live article."""

__version__ = "0.1.0"
PROJECT_URL = "https://github.com/feedgen-dw/feedgen-dw#readme"
DEFAULT_USER_AGENT = f"feedgen-dw/{__version__} (+{PROJECT_URL})"
