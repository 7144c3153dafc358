"""The schema of the state, as migrations: entry n brings schema version n-1 to n.

Written once for both backends: SQLite keeps the version in `PRAGMA user_version`,
PostgreSQL in the table `feedgen_dw_schema`; PostgreSQL's statements are these with its
names for the types that differ (postgres_migrations)."""

from __future__ import annotations

MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE feeds (
        name TEXT PRIMARY KEY,
        last_poll TEXT,
        last_success TEXT,
        last_error TEXT,
        failures INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE articles (
        feed TEXT NOT NULL,
        article_id TEXT NOT NULL,
        host TEXT NOT NULL,
        url TEXT NOT NULL,
        title TEXT NOT NULL,
        feed_title TEXT NOT NULL,
        language TEXT,
        tag_date TEXT NOT NULL,
        first_seen TEXT NOT NULL,
        last_changed TEXT NOT NULL,
        PRIMARY KEY (feed, article_id)
    );
    CREATE TABLE sections (
        feed TEXT NOT NULL,
        article_id TEXT NOT NULL,
        key TEXT NOT NULL,
        item_id TEXT NOT NULL,
        title TEXT NOT NULL,
        html TEXT NOT NULL,
        link TEXT NOT NULL,
        published TEXT NOT NULL,
        updated TEXT NOT NULL,
        seen_headline TEXT NOT NULL,
        seen_text TEXT NOT NULL,
        content_hash TEXT NOT NULL,
        position INTEGER NOT NULL,
        removed_at TEXT,
        revision INTEGER NOT NULL DEFAULT 0,
        authors TEXT NOT NULL DEFAULT '[]',
        PRIMARY KEY (feed, article_id, key)
    );
    CREATE INDEX sections_by_time ON sections (feed, published DESC);
    """,
    # conditional GET, remembered redirects, and what the schedule needs across restarts
    """
    ALTER TABLE feeds ADD COLUMN etag TEXT;
    ALTER TABLE feeds ADD COLUMN last_modified TEXT;
    ALTER TABLE feeds ADD COLUMN config_url TEXT;
    ALTER TABLE feeds ADD COLUMN fetch_url TEXT;
    ALTER TABLE feeds ADD COLUMN last_change TEXT;
    """,
    # set with a state change, cleared once the files show it: a crash in between is
    # repaired by the next poll even when the page has not changed since
    """
    ALTER TABLE feeds ADD COLUMN render_pending INTEGER NOT NULL DEFAULT 0;
    """,
    # the digest of the markup each section was sanitized from, so it is not sanitized
    # again; each item's entry as rendered once (render.entry_xml), which feeds are built
    # from: a table of their own, so that the section rows a poll rewrites stay small
    """
    ALTER TABLE sections ADD COLUMN raw_digest TEXT NOT NULL DEFAULT '';
    CREATE TABLE entries (
        feed TEXT NOT NULL,
        item_id TEXT NOT NULL,
        key TEXT NOT NULL,
        atom BLOB NOT NULL,
        rss BLOB NOT NULL,
        PRIMARY KEY (feed, item_id)
    );
    """,
    # where a followed feed fetched each article (an URL its index listed): stored
    # articles are fetched there again, not at the canonical URL their page declares
    """
    ALTER TABLE articles ADD COLUMN fetch_url TEXT;
    """,
    # the schedule shared by several daemons on one PostgreSQL (SQLite's single daemon
    # keeps it in memory, from the feeds' status): when each feed is due, whether it is
    # stopped, which node holds it and until when (its lease), which node polled it last;
    # and when each node was last seen
    """
    CREATE TABLE claims (
        feed TEXT PRIMARY KEY,
        url TEXT NOT NULL,
        host TEXT NOT NULL,
        due TEXT NOT NULL,
        stopped INTEGER NOT NULL DEFAULT 0,
        node TEXT,
        lease_until TEXT,
        last_node TEXT,
        last_polled TEXT
    );
    CREATE INDEX claims_by_due ON claims (due);
    CREATE TABLE nodes (
        node TEXT PRIMARY KEY,
        seen TEXT NOT NULL
    );
    """,
    # the rendered documents (feeds, pages, index, OPML) that any node serves; written
    # only by the PostgreSQL backend (SQLite's single machine serves its files)
    """
    CREATE TABLE documents (
        name TEXT PRIMARY KEY,
        body BLOB NOT NULL,
        etag TEXT NOT NULL,
        modified INTEGER NOT NULL
    );
    """,
    # a DW feed reads DW's JSON API or the page (source.py): the URL the stored validators
    # came from, and until when a failed API is not asked again
    """
    ALTER TABLE feeds ADD COLUMN validators_from TEXT;
    ALTER TABLE feeds ADD COLUMN api_off_until TEXT;
    """,
    # the polls each node committed (the index's Nodes table; its sum is checked against
    # the requests a test server counted)
    """
    ALTER TABLE nodes ADD COLUMN polls INTEGER NOT NULL DEFAULT 0;
    """,
    # a claim reads the first few due feeds in (due, feed) order and counts the running
    # polls per host: both from an index, not from every feed of a large schedule
    """
    DROP INDEX claims_by_due;
    CREATE INDEX claims_by_due ON claims (due, feed);
    CREATE INDEX claims_by_lease ON claims (lease_until);
    """,
)


# SQLite type -> PostgreSQL type, where they differ
_POSTGRES_TYPES = {"BLOB": "BYTEA"}


def statements(scripts: tuple[str, ...]) -> list[str]:
    """The statements of migration scripts, in order."""
    return [s.strip() for script in scripts for s in script.split(";") if s.strip()]


def postgres_migrations() -> tuple[str, ...]:
    """MIGRATIONS as PostgreSQL reads them."""
    def translate(script: str) -> str:
        for sqlite_type, pg_type in _POSTGRES_TYPES.items():
            script = script.replace(f" {sqlite_type} ", f" {pg_type} ")
        return script
    return tuple(translate(script) for script in MIGRATIONS)
