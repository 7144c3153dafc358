"""One exception root, so the CLI can turn every expected failure into one line."""


class FeedgenDwError(Exception):
    """Root of every error this package raises on purpose."""


class ConfigError(FeedgenDwError):
    """The configuration file is missing, unreadable or invalid (names the key path)."""


class UsageError(FeedgenDwError):
    """A command-line value the command cannot use: a port taken, invalid or not allowed."""


class FetchError(FeedgenDwError):
    """The page could not be fetched (names the URL and the HTTP status or cause)."""

    def __init__(
        self, message: str, *, url: str, status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.url = url
        self.status = status
        self.retry_after = retry_after  # seconds the server asked us to wait, if it did


class ExtractError(FeedgenDwError):
    """The page was fetched but no article or too few sections were found in it."""


class StoreError(FeedgenDwError):
    """The state database cannot be opened, is foreign or corrupt, or a write failed."""


class OutputError(FeedgenDwError):
    """A feed file could not be written; the previous file stays in place."""
