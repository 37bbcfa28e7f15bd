"""Blind pairwise rating studies in SQLite (WAL): studies, their items, raters and votes.

A vote is committed when it is cast, so a restarted server loses none. Raters join in one of two
ways the owner chooses per study (`joining`): through one shared link, where a browser that joins
again resumes its first rater (and the rater's `joins` counts the attempts), or only through
personal links the owner issues (`issued` raters). Which system wrote the
answer shown as "Response 1" is decided per (rater, item) by an HMAC of the study's secret, so it
is stable across reloads and restarts and never stored in anything a rater receives.
Preferences are stored AlpacaEval's way: 1 = system 1 better, 2 = system 2 better, 1.5 = tie.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

from evaluation.annotations import preference_for
from records.timestamps import iso_utc

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS studies (
  id INTEGER PRIMARY KEY, key TEXT UNIQUE NOT NULL, secret TEXT NOT NULL, name TEXT NOT NULL,
  system_1 TEXT NOT NULL, system_2 TEXT NOT NULL, created TEXT NOT NULL, closed TEXT, judge TEXT,
  joining TEXT NOT NULL DEFAULT 'shared');
CREATE TABLE IF NOT EXISTS items (
  study_id INTEGER NOT NULL, item INTEGER NOT NULL, instruction TEXT NOT NULL, input TEXT NOT NULL,
  output_1 TEXT NOT NULL, output_2 TEXT NOT NULL, PRIMARY KEY (study_id, item));
CREATE TABLE IF NOT EXISTS raters (
  id TEXT PRIMARY KEY, study_id INTEGER NOT NULL, name TEXT NOT NULL, created TEXT NOT NULL,
  browser TEXT, joins INTEGER NOT NULL DEFAULT 1, issued INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS votes (
  study_id INTEGER NOT NULL, rater_id TEXT NOT NULL, item INTEGER NOT NULL, choice TEXT NOT NULL,
  swapped INTEGER NOT NULL, preference REAL NOT NULL, comment TEXT NOT NULL DEFAULT '',
  created TEXT NOT NULL, updated TEXT NOT NULL, PRIMARY KEY (study_id, rater_id, item));
"""
# Columns added after the first release, for databases created before them.
ADDED_COLUMNS = {"studies": {"joining": "TEXT NOT NULL DEFAULT 'shared'"},
                 "raters": {"browser": "TEXT", "joins": "INTEGER NOT NULL DEFAULT 1",
                            "issued": "INTEGER NOT NULL DEFAULT 0"}}
CHOICES = ("1", "2", "tie")
JOINING = ("shared", "issued")  # one shared link for everyone, or personal links the owner issues
MAX_NAME, MAX_COMMENT = 80, 2000


@dataclass(frozen=True)
class Study:
    id: int
    key: str
    name: str
    system_1: str
    system_2: str
    created: str
    closed: str | None
    judge: str | None
    secret: str
    joining: str = "shared"

    @property
    def is_open(self) -> bool:
        return self.closed is None


class Studies:
    """All studies in one SQLite file; safe to share across the server's threads."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        with self._db() as db:
            db.executescript(SCHEMA)
            add_columns(db)

    def _db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=10)
            db.row_factory = sqlite3.Row
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            self._local.db = db
        return db

    def server_secret(self) -> bytes:
        """A secret kept in the database (CSRF tokens stay valid across restarts)."""
        with self._db() as db:
            db.execute("INSERT OR IGNORE INTO meta VALUES ('secret', ?)", (secrets.token_hex(32),))
            return bytes.fromhex(db.execute("SELECT value FROM meta WHERE key='secret'").fetchone()[0])

    # studies -------------------------------------------------------------------------------------

    def create(self, name: str, system_1: str, system_2: str, items: list[dict], *, joining: str = "shared") -> Study:
        """A new open study over `items` ({instruction, input, output_1, output_2}), in that order."""
        if joining not in JOINING:
            raise ValueError(f"joining must be one of {JOINING}")
        with self._db() as db:
            cur = db.execute("INSERT INTO studies (key, secret, name, system_1, system_2, created, joining) "
                             "VALUES (?,?,?,?,?,?,?)", (secrets.token_urlsafe(18), secrets.token_hex(32),
                                                        name[:MAX_NAME], system_1, system_2, iso_utc(), joining))
            sid = cur.lastrowid
            db.executemany("INSERT INTO items VALUES (?,?,?,?,?,?)",
                           [(sid, k + 1, it["instruction"], it.get("input") or "", it["output_1"], it["output_2"])
                            for k, it in enumerate(items)])
        return self.get(sid)

    def _study(self, row) -> Study | None:
        return Study(**{k: row[k] for k in row.keys()}) if row else None

    def get(self, study_id: int) -> Study | None:
        return self._study(self._db().execute("SELECT * FROM studies WHERE id=?", (study_id,)).fetchone())

    def by_key(self, key: str) -> Study | None:
        return self._study(self._db().execute("SELECT * FROM studies WHERE key=?", (key,)).fetchone())

    def all(self) -> list[Study]:
        return [self._study(r) for r in self._db().execute("SELECT * FROM studies ORDER BY id DESC")]

    def close(self, study_id: int) -> None:
        with self._db() as db:
            db.execute("UPDATE studies SET closed=? WHERE id=? AND closed IS NULL", (iso_utc(), study_id))

    def set_joining(self, study_id: int, joining: str) -> None:
        if joining not in JOINING:
            raise ValueError(f"joining must be one of {JOINING}")
        with self._db() as db:
            db.execute("UPDATE studies SET joining=? WHERE id=?", (joining, study_id))

    def attach_judge(self, study_id: int, annotations_json: str) -> None:
        with self._db() as db:
            db.execute("UPDATE studies SET judge=? WHERE id=?", (annotations_json, study_id))

    def count_items(self, study_id: int) -> int:
        return self._db().execute("SELECT COUNT(*) FROM items WHERE study_id=?", (study_id,)).fetchone()[0]

    def items(self, study_id: int) -> list[dict]:
        return [dict(r) for r in self._db().execute("SELECT * FROM items WHERE study_id=? ORDER BY item", (study_id,))]

    def item(self, study_id: int, item: int) -> dict | None:
        row = self._db().execute("SELECT * FROM items WHERE study_id=? AND item=?", (study_id, item)).fetchone()
        return dict(row) if row else None

    # raters and votes ----------------------------------------------------------------------------

    def add_rater(self, study_id: int, name: str, *, browser: str | None = None, issued: bool = False) -> str:
        """A new rater; `browser` identifies the browser that joined (a digest of its cookie), `issued`
        marks a personal link the owner made."""
        rater_id = secrets.token_urlsafe(12)
        with self._db() as db:
            db.execute("INSERT INTO raters (id, study_id, name, created, browser, issued) VALUES (?,?,?,?,?,?)",
                       (rater_id, study_id, name.strip()[:MAX_NAME], iso_utc(), browser, int(issued)))
        return rater_id

    def rater_of_browser(self, study_id: int, browser: str) -> dict | None:
        """The rater this browser joined this study as (the first, should there be several)."""
        row = self._db().execute("SELECT * FROM raters WHERE study_id=? AND browser=? ORDER BY rowid LIMIT 1",
                                 (study_id, browser)).fetchone()
        return dict(row) if row else None

    def count_join(self, rater_id: str) -> None:
        """One more join from the browser that is already this rater (resumed, not a new rater)."""
        with self._db() as db:
            db.execute("UPDATE raters SET joins = joins + 1 WHERE id=?", (rater_id,))

    def rater(self, study_id: int, rater_id: str) -> dict | None:
        row = self._db().execute("SELECT * FROM raters WHERE id=? AND study_id=?", (rater_id, study_id)).fetchone()
        return dict(row) if row else None

    def raters(self, study_id: int) -> list[dict]:
        return [dict(r) for r in self._db().execute("SELECT * FROM raters WHERE study_id=? ORDER BY rowid",
                                                    (study_id,))]

    def vote(self, study: Study, rater_id: str, item: int, choice: str, comment: str = "") -> None:
        """Record (or change) a vote given by screen position; stored as a preference between systems."""
        if choice not in CHOICES:
            raise ValueError(f"choice must be one of {CHOICES}")
        swapped = is_swapped(study, rater_id, item)
        second_won = (choice == "1") == swapped  # screen position 1 shows system 2 when swapped
        preference = preference_for(0.5 if choice == "tie" else float(second_won))
        stamp = iso_utc()
        with self._db() as db:
            db.execute(
                "INSERT INTO votes VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT (study_id, rater_id, item) DO UPDATE SET "
                "choice=excluded.choice, swapped=excluded.swapped, preference=excluded.preference, "
                "comment=excluded.comment, updated=excluded.updated",
                (study.id, rater_id, item, choice, int(swapped), preference, comment[:MAX_COMMENT], stamp, stamp))

    def votes(self, study_id: int, rater_id: str | None = None) -> list[dict]:
        sql, args = "SELECT * FROM votes WHERE study_id=?", [study_id]
        if rater_id is not None:
            sql, args = sql + " AND rater_id=?", [*args, rater_id]
        return [dict(r) for r in self._db().execute(sql + " ORDER BY item, rater_id", args)]


def add_columns(db: sqlite3.Connection) -> None:
    """Bring a database made before ADDED_COLUMNS up to the current schema (SQLite adds columns in place)."""
    for table, columns in ADDED_COLUMNS.items():
        have = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
        for column, kind in columns.items():
            if column not in have:
                db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")


def is_swapped(study: Study, rater_id: str, item: int) -> bool:
    """True when this rater sees system 2's answer as Response 1 on this item (a keyed coin flip)."""
    digest = hmac.new(bytes.fromhex(study.secret), f"{rater_id}\0{item}".encode(), hashlib.sha256).digest()
    return bool(digest[0] & 1)
