"""`feedgen-dw migrate --to postgresql://…`: a SQLite state copied into PostgreSQL.

Everything a node needs to carry on where the single machine left off: feeds (poll
times, failures, last change, HTTP validators and remembered redirects: the schedule is
computed from these), articles, sections (ids and times) and kept entries. The feeds the
SQLite file holds are replaced in PostgreSQL in one transaction, so running it again
copies the same state again (idempotent) and an interrupted copy leaves nothing half done.
"""

from __future__ import annotations

from feedgen_dw.store.sql import SqlStore

# table -> its key; feeds first (the rows of a feed are replaced as a whole)
TABLES: dict[str, tuple[str, ...]] = {
    "feeds": ("name",),
    "articles": ("feed", "article_id"),
    "sections": ("feed", "article_id", "key"),
    "entries": ("feed", "item_id"),
}


def copy_state(source: SqlStore, target: SqlStore) -> dict[str, int]:
    """Copy every row of `source` into `target`, replacing the target's rows of the same
    feeds; the number of rows copied, by table."""
    data = {table: source._rows(f"SELECT * FROM {table} ORDER BY {', '.join(key)}")
            for table, key in TABLES.items()}
    feeds = sorted({row["name"] for row in data["feeds"]}
                   | {row["feed"] for table in TABLES if table != "feeds"
                      for row in data[table]})
    with target._writing("copying the state") as w:
        for table in reversed(TABLES):
            column = "name" if table == "feeds" else "feed"
            w.executemany(f"DELETE FROM {table} WHERE {column}=?", [(f,) for f in feeds])
        for table, rows in data.items():
            if not rows:
                continue
            columns = list(rows[0].keys())
            w.executemany(
                f"INSERT INTO {table} ({', '.join(columns)}) "
                f"VALUES ({', '.join('?' * len(columns))})",
                [tuple(row[c] for c in columns) for row in rows],
            )
    return {table: len(rows) for table, rows in data.items()}
