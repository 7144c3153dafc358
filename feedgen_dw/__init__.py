"""feedgen-dw: one feed item per new section of a live article."""

__version__ = "0.1.0"
PROJECT_URL = "https://github.com/feedgen-dw/feedgen-dw#readme"
