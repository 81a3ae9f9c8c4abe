"""The review store: flags from scoring runs, reviewers' decisions on them, and what those
decisions feed back into (overrides for the next run, training pairs).

One SQLite file (write-ahead logging, so readers never block the writer) with three tables:

- ``runs``: each import of a scoring run's flags (when, from where, which lists, counts);
- ``flags``: every flag ever imported, by its stable id (:mod:`hsmatch.flags`), with the
  run it was first and last seen in. A flag that a later run of the same list no longer
  raises is marked ``present = 0`` with ``resolved_at``, never deleted; if it comes back it
  is present again and keeps its decisions;
- ``decisions``: append-only (triggers refuse UPDATE and DELETE): accept, reject,
  correct (with kind and codes), note, reopen; each with reviewer, UTC time and source.

A flag's status:

- ``resolved`` when the latest run of its list no longer raises it (whatever was decided);
- otherwise the latest decision that is not a note: ``accepted`` (the flag is right),
  ``rejected`` (a false alarm), ``corrected`` (the classification was wrong; the reviewer
  gave the right kind and codes), or ``open`` when there is none or the latest is
  ``reopen``. A note never changes the status; the history keeps everything.

A correction is about the listed product's classification, not about the flag, so it
stands when the flag is later accepted or rejected (the next run re-raises the flag with
the corrected code, and the reviewer judges that); only a later correction or ``reopen``
replaces it. The standing correction of a name applies to that product name everywhere:
the latest over all its flags (resolved ones too) is what :meth:`ReviewStore.overrides`
hands to the next scoring run and what :meth:`ReviewStore.to_training` writes as a
training pair.

Every write is its own short ``BEGIN IMMEDIATE`` transaction: the write lock is taken up
front, so concurrent writers queue behind the busy timeout instead of failing on a stale
read snapshot, and a CSV import commits row by row, so a failure halfway loses nothing
already saved.
"""

from __future__ import annotations

import csv
import json
import logging
import os
import re
import sqlite3
from collections.abc import Container, Iterator, Mapping, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hsmatch.codes import split_codes
from hsmatch.errors import CodeError, DataError, InputError, RowWarning
from hsmatch.flags import FLAG_COLUMNS, FLAG_TYPES
from hsmatch.text import normalize

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
DEFAULT_DB = "out/reviews.sqlite"
ENV_DB = "HSMATCH_REVIEWS"

ACTIONS = ("accept", "reject", "correct", "note", "reopen")
STATUSES = ("open", "accepted", "rejected", "corrected", "resolved")
KINDS = ("goods", "broad", "service", "unknown")
# Spreadsheet users write what they see in the status column.
ACTION_ALIASES = {"accepted": "accept", "rejected": "reject", "corrected": "correct",
                  "correction": "correct", "noted": "note", "reopened": "reopen"}
FILTERS = ("state", "district", "flag_type", "status", "list", "q")
MAX_NOTE = 4000
MAX_REVIEWER = 100

# The columns `review export` writes; reviewers fill the last five and `review import`
# reads them back (with flag_id).
EXPORT_COLUMNS = ("flag_id", "status", "flag_type", "list", "state", "district", "product",
                  "code", "message", "classifier_kind", "classifier_codes", "confidence",
                  "decision", "decided_by", "decided_at", "last_note",
                  "action", "kind", "codes", "note", "reviewer")
IMPORT_COLUMNS = ("flag_id", "action", "reviewer")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    imported_at TEXT NOT NULL,
    source TEXT NOT NULL,
    lists_json TEXT NOT NULL,
    counts_json TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS flags (
    flag_id TEXT PRIMARY KEY,
    flag_type TEXT NOT NULL,
    list TEXT NOT NULL,
    state TEXT NOT NULL,
    district TEXT NOT NULL,
    product TEXT NOT NULL,
    code TEXT NOT NULL,
    message TEXT NOT NULL,
    evidence_json TEXT NOT NULL,
    first_seen_run INTEGER NOT NULL REFERENCES runs(id),
    last_seen_run INTEGER NOT NULL REFERENCES runs(id),
    present INTEGER NOT NULL DEFAULT 1 CHECK (present IN (0, 1)),
    resolved_at TEXT
);
CREATE INDEX IF NOT EXISTS flags_order ON flags(state, district, list, flag_type, product, code, flag_id);
CREATE INDEX IF NOT EXISTS flags_list ON flags(list, present);
CREATE TABLE IF NOT EXISTS decisions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    flag_id TEXT NOT NULL REFERENCES flags(flag_id),
    action TEXT NOT NULL CHECK (action IN ('accept', 'reject', 'correct', 'note', 'reopen')),
    kind TEXT NOT NULL DEFAULT '',
    codes TEXT NOT NULL DEFAULT '',
    note TEXT NOT NULL DEFAULT '',
    reviewer TEXT NOT NULL CHECK (reviewer <> ''),
    decided_at TEXT NOT NULL,
    source TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS decisions_flag ON decisions(flag_id, id);
CREATE INDEX IF NOT EXISTS decisions_state ON decisions(flag_id, id) WHERE action <> 'note';
CREATE TRIGGER IF NOT EXISTS decisions_append_only_update BEFORE UPDATE ON decisions
BEGIN SELECT RAISE(ABORT, 'decisions are append-only: add a new decision instead'); END;
CREATE TRIGGER IF NOT EXISTS decisions_append_only_delete BEFORE DELETE ON decisions
BEGIN SELECT RAISE(ABORT, 'decisions are append-only: add a new decision instead'); END;
CREATE VIEW IF NOT EXISTS flag_status AS
SELECT f.*,
       d.id AS decision_id, d.action AS decision, d.kind AS decision_kind,
       d.codes AS decision_codes, d.reviewer AS decided_by, d.decided_at AS decided_at,
       CASE WHEN f.present = 0 THEN 'resolved'
            WHEN d.action IS NULL OR d.action = 'reopen' THEN 'open'
            WHEN d.action = 'accept' THEN 'accepted'
            WHEN d.action = 'reject' THEN 'rejected'
            ELSE 'corrected' END AS status
FROM flags f
LEFT JOIN decisions d ON d.id = (SELECT id FROM decisions WHERE flag_id = f.flag_id
                                 AND action <> 'note' ORDER BY id DESC LIMIT 1);
"""

# Queue order: by place, then by what the flag is about; flag_id makes it total.
ORDER = ("state", "district", "list", "flag_type", "product", "code", "flag_id")
_ORDER_SQL = ", ".join(ORDER)


def default_db_path() -> Path:
    """``HSMATCH_REVIEWS`` or ``out/reviews.sqlite``."""
    return Path(os.environ.get(ENV_DB) or DEFAULT_DB)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class Decision:
    """One reviewer's decision on one flag (a row of the append-only ``decisions`` table)."""

    id: int
    flag_id: str
    action: str
    kind: str
    codes: tuple[str, ...]
    note: str
    reviewer: str
    decided_at: str
    source: str

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Decision:
        return cls(int(row["id"]), row["flag_id"], row["action"], row["kind"],
                   tuple(row["codes"].split()), row["note"], row["reviewer"], row["decided_at"],
                   row["source"])

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "flag_id": self.flag_id, "action": self.action, "kind": self.kind,
                "codes": " ".join(self.codes), "note": self.note, "reviewer": self.reviewer,
                "decided_at": self.decided_at, "source": self.source}


@dataclass(frozen=True)
class SyncReport:
    """What importing one run's flags did."""

    run_id: int
    source: str
    flags: int
    new: int
    seen_before: int
    reappeared: int
    resolved: int
    lists: tuple[str, ...]

    def __str__(self) -> str:
        return (f"run {self.run_id} ({self.source}): {self.flags:,} flags ({self.new:,} new, "
                f"{self.seen_before:,} seen before, {self.reappeared:,} back again); "
                f"{self.resolved:,} no longer raised, marked resolved")


@dataclass
class ImportReport:
    """What a CSV import saved, and every row it could not save (with its line)."""

    source: str
    saved: int = 0
    unchanged: int = 0
    blank: int = 0
    errors: list[RowWarning] = field(default_factory=list)

    def __str__(self) -> str:
        return (f"{self.source}: saved {self.saved} decision(s); {self.unchanged} already saved, "
                f"{self.blank} row(s) without an action skipped, {len(self.errors)} row(s) "
                "with errors")


class _CurrentCodes:
    """Codes a correction may use: in the nomenclature (HS and SAC) and current."""

    def __init__(self, nomenclature: Any) -> None:
        self.nomenclature = nomenclature

    def __contains__(self, code: object) -> bool:
        nom = self.nomenclature
        return code in nom and (not hasattr(nom, "is_current") or nom.is_current(code))


class ReviewStore:
    """The review queue and decisions in one SQLite file.

    ``known`` checks corrected codes (default: the current codes of the nomenclature in
    ``data_dir``, loaded when the first correction needs it). ``create=False`` refuses a
    path where no store exists yet, instead of making an empty one.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None, *,
                 data_dir: str | os.PathLike[str] | None = None,
                 known: Container[str] | None = None, create: bool = True,
                 timeout: float = 30.0) -> None:
        self.path = Path(path) if path is not None else default_db_path()
        self.data_dir = data_dir
        self.timeout = timeout
        self._known = known
        if not self.path.exists():
            if not create:
                raise InputError(
                    f"no review store at {self.path}; make one with `hsmatch review sync --flags "
                    "out/score/flags.csv` or `hsmatch score --reviews PATH`, or pass --db")
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._setup()

    def __repr__(self) -> str:
        return f"ReviewStore({str(self.path)!r})"

    # -- connections and transactions -----------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None,
                               check_same_thread=False)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA foreign_keys = ON")
        return conn

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        try:
            with closing(self._connect()) as conn:
                yield conn
        except sqlite3.DatabaseError as exc:
            raise self._database_error(exc) from exc

    @contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; the write lock is taken at BEGIN, so concurrent writers
        wait (up to ``timeout``) rather than fail on a snapshot that went stale."""
        try:
            with closing(self._connect()) as conn:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    yield conn
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")
        except sqlite3.DatabaseError as exc:
            raise self._database_error(exc) from exc

    def _database_error(self, exc: sqlite3.DatabaseError) -> DataError:
        text = str(exc)
        if "locked" in text or "busy" in text:
            return DataError(f"review store {self.path} stayed locked for more than "
                             f"{self.timeout:g} s (another program is writing to it); try again")
        if "not a database" in text:
            return DataError(f"{self.path} is not a review store (not an SQLite database); "
                             "pass another --db")
        return DataError(f"review store {self.path}: {text}")

    def _setup(self) -> None:
        with self._reading() as conn:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise DataError(f"review store {self.path} has schema version {version}; this "
                                f"hsmatch reads version {SCHEMA_VERSION}: upgrade hsmatch")
            # WAL: readers (the web page, exports) never block the writer, nor it them.
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if mode.lower() != "wal":
                log.warning("review store %s: write-ahead logging unavailable (%s)", self.path, mode)
            if version == 0:
                # Our own tables may appear meanwhile (another program creating the store).
                foreign = conn.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table' "
                                       "AND name NOT LIKE 'sqlite_%' AND name NOT IN "
                                       "('runs', 'flags', 'decisions')").fetchone()[0]
                if foreign:
                    raise DataError(f"{self.path} is an SQLite database but not a review store; "
                                    "pass another --db")
                # One transaction, every statement IF NOT EXISTS: two programs creating the
                # same store at once both succeed.
                conn.executescript(f"BEGIN IMMEDIATE;{_SCHEMA}PRAGMA user_version = "
                                   f"{SCHEMA_VERSION}; COMMIT;")

    @property
    def known(self) -> Container[str]:
        if self._known is None:
            from hsmatch.nomenclature import Nomenclature

            self._known = _CurrentCodes(Nomenclature.load(self.data_dir))
        return self._known

    # -- importing flags ------------------------------------------------------------------

    def sync_flags(self, flags: pd.DataFrame | str | os.PathLike[str], *, source: str = "",
                   lists: Sequence[str] | None = None) -> SyncReport:
        """Import one scoring run's flags (a flags table or the path of its flags.csv).

        New flags are added; flags seen before are refreshed (message, evidence) and keep
        their decisions; flags of the run's ``lists`` (default: the lists in ``flags``; for a
        path, ``lists`` of the meta.json beside it) that this run no longer raises are marked
        resolved, never deleted.
        """
        if isinstance(flags, str | os.PathLike):
            from hsmatch.data import read_csv_text

            path = Path(flags)
            frame, label = read_csv_text(path), str(path)
            if lists is None and (path.parent / "meta.json").is_file():
                try:
                    lists = json.loads((path.parent / "meta.json").read_text()).get("lists")
                except (json.JSONDecodeError, AttributeError):
                    lists = None
        else:  # a DataFrame (pandas is imported only when needed)
            frame, label = flags, source or "flags table"
        rows = _flag_rows(frame, label)
        scope = tuple(sorted(set(lists) if lists is not None else {r["list"] for r in rows}))
        now = _now()
        with self._writing() as conn:
            before = {r["flag_id"]: r["present"] for r in conn.execute("SELECT flag_id, present FROM flags")}
            run_id = conn.execute("INSERT INTO runs (imported_at, source, lists_json, counts_json) "
                                  "VALUES (?, ?, ?, '{}')",
                                  (now, source or label, json.dumps(scope))).lastrowid or 0
            conn.executemany(
                f"INSERT INTO flags ({', '.join(FLAG_COLUMNS)}, first_seen_run, last_seen_run, present) "
                f"VALUES ({', '.join('?' * len(FLAG_COLUMNS))}, ?, ?, 1) "
                "ON CONFLICT(flag_id) DO UPDATE SET flag_type = excluded.flag_type, list = excluded.list, "
                "state = excluded.state, district = excluded.district, product = excluded.product, "
                "code = excluded.code, message = excluded.message, evidence_json = excluded.evidence_json, "
                "last_seen_run = excluded.last_seen_run, present = 1, resolved_at = NULL",
                [(*(r[c] for c in FLAG_COLUMNS), run_id, run_id) for r in rows])
            resolved = 0
            if scope:
                marks = ", ".join("?" * len(scope))
                resolved = conn.execute(
                    f"UPDATE flags SET present = 0, resolved_at = ? WHERE present = 1 "
                    f"AND last_seen_run <> ? AND list IN ({marks})", (now, run_id, *scope)).rowcount
            seen = [r["flag_id"] for r in rows if r["flag_id"] in before]
            report = SyncReport(run_id=int(run_id), source=source or label, flags=len(rows),
                                new=len(rows) - len(seen), seen_before=len(seen),
                                reappeared=sum(1 for f in seen if not before[f]), resolved=resolved,
                                lists=scope)
            counts = {k: getattr(report, k) for k in ("flags", "new", "seen_before", "reappeared",
                                                       "resolved")}
            conn.execute("UPDATE runs SET counts_json = ? WHERE id = ?", (json.dumps(counts), run_id))
        log.info("%s", report)
        return report

    # -- deciding -------------------------------------------------------------------------

    def decide(self, flag_id: str, action: str, reviewer: str, *, kind: str | None = None,
               codes: str | Sequence[str] | None = None, note: str = "", source: str = "api",
               skip_if_unchanged: bool = False) -> Decision | None:
        """Record one decision and return it.

        ``action``: accept (the flag is right), reject (a false alarm), correct (the listed
        product's kind and codes were wrong: give ``codes``, and ``kind`` unless the codes
        make it plain), note (a comment; needs ``note``), reopen (back to open). Raises
        :class:`InputError` naming what is wrong and how to fix it. With
        ``skip_if_unchanged`` a decision identical to the flag's latest one is not added
        again (returns None): re-importing a file is safe.
        """
        flag_id = str(flag_id or "").strip()
        action = ACTION_ALIASES.get(str(action or "").strip().lower(), str(action or "").strip().lower())
        reviewer = " ".join(str(reviewer or "").split())
        note = str(note or "").strip()
        where = f"decision on {flag_id or 'a flag'}"
        if not flag_id:
            raise InputError("no flag id given; flag ids come from a scoring run's flags.csv "
                             "(column flag_id)")
        if action not in ACTIONS:
            raise InputError(f"{where}: unknown action {action or '(empty)'!r}; choose one of "
                             f"{', '.join(ACTIONS)}")
        if not reviewer:
            raise InputError(f"{where}: no reviewer name; every decision records who made it "
                             "(fill in the reviewer)")
        if len(reviewer) > MAX_REVIEWER:
            raise InputError(f"{where}: the reviewer name is longer than {MAX_REVIEWER} characters")
        if len(note) > MAX_NOTE:
            raise InputError(f"{where}: the note is longer than {MAX_NOTE} characters; shorten it")
        if action == "note" and not note:
            raise InputError(f"{where}: a note needs its text")
        code_list = _parse_codes(codes, where)
        kind = str(kind or "").strip().lower()
        if action == "correct":
            kind = _correction_kind(kind, code_list, where)
            self._check_correction(kind, code_list, where)
        elif code_list or kind:
            raise InputError(f"{where}: kind and codes go with a correction only (action "
                             f"'correct'), not with {action!r}; clear them or choose correct")
        with self._writing() as conn:
            flag = conn.execute("SELECT flag_id, product, flag_type FROM flags WHERE flag_id = ?",
                                (flag_id,)).fetchone()
            if flag is None:
                raise InputError(f"no flag {flag_id!r} in the review store {self.path}; flag ids "
                                 "come from a scoring run imported with `hsmatch review sync` "
                                 "(or `hsmatch score --reviews`)")
            if action == "correct" and not flag["product"]:
                raise InputError(f"{where}: a {flag['flag_type']} flag is about the district, not a "
                                 "listed product, so there is no code to correct; accept, reject "
                                 "or note it")
            values = (flag_id, action, kind, " ".join(code_list), note, reviewer)
            if skip_if_unchanged:
                last = conn.execute("SELECT flag_id, action, kind, codes, note, reviewer FROM "
                                    "decisions WHERE flag_id = ? ORDER BY id DESC LIMIT 1",
                                    (flag_id,)).fetchone()
                if last is not None and tuple(last) == values:
                    return None
            decided_at = _now()
            new_id = conn.execute("INSERT INTO decisions (flag_id, action, kind, codes, note, "
                                  "reviewer, decided_at, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                                  (*values, decided_at, source)).lastrowid or 0
        return Decision(int(new_id), flag_id, action, kind, tuple(code_list), note, reviewer,
                        decided_at, source)

    def _check_correction(self, kind: str, codes: list[str], where: str) -> None:
        from hsmatch.trainset import check_label

        try:
            check_label(kind, codes, self.known, where)
        except DataError as exc:
            raise InputError(f"{exc}; give current ITC-HS codes (8 digits for goods, a chapter or "
                             "heading for broad, SAC 99... for a service) or kind 'unknown' "
                             "with no code") from exc

    # -- reading --------------------------------------------------------------------------

    def flag(self, flag_id: str) -> dict[str, Any] | None:
        """One flag with its status, latest decision and parsed ``evidence``; None if unknown."""
        with self._reading() as conn:
            row = conn.execute("SELECT * FROM flag_status WHERE flag_id = ?", (flag_id,)).fetchone()
        if row is None:
            return None
        out = dict(row)
        try:
            out["evidence"] = json.loads(out["evidence_json"] or "{}")
        except json.JSONDecodeError:
            out["evidence"] = {"evidence_json": out["evidence_json"]}
        return out

    def standing_correction(self, flag_id: str) -> Decision | None:
        """The flag's correction in force (its latest, unless reopened since), or None."""
        with self._reading() as conn:
            row = conn.execute("SELECT * FROM decisions WHERE flag_id = ? AND action IN "
                               "('correct', 'reopen') ORDER BY id DESC LIMIT 1", (flag_id,)).fetchone()
        return Decision.from_row(row) if row is not None and row["action"] == "correct" else None

    def history(self, flag_id: str) -> list[Decision]:
        """Every decision on a flag, oldest first."""
        with self._reading() as conn:
            rows = conn.execute("SELECT * FROM decisions WHERE flag_id = ? ORDER BY id",
                                (flag_id,)).fetchall()
        return [Decision.from_row(r) for r in rows]

    def decisions(self) -> list[Decision]:
        """Every decision, oldest first."""
        with self._reading() as conn:
            return [Decision.from_row(r) for r in conn.execute("SELECT * FROM decisions ORDER BY id")]

    def runs(self) -> list[dict[str, Any]]:
        """The imported runs, oldest first."""
        with self._reading() as conn:
            rows = conn.execute("SELECT * FROM runs ORDER BY id").fetchall()
        return [{"id": r["id"], "imported_at": r["imported_at"], "source": r["source"],
                 "lists": json.loads(r["lists_json"]), "counts": json.loads(r["counts_json"])}
                for r in rows]

    def queue(self, *, limit: int | None = 50, offset: int = 0,
              **filters: str | None) -> list[dict[str, Any]]:
        """Flags with their status and latest decision, in queue order (state, district,
        list, type, product), filtered by ``state``, ``district``, ``flag_type``, ``status``,
        ``list`` and ``q`` (text in the product, district, code or message)."""
        return self._select(filters, limit, offset)

    def _select(self, filters: Mapping[str, str | None], limit: int | None = None,
                offset: int = 0) -> list[dict[str, Any]]:
        where, params = _where(filters)
        page = "" if limit is None else f" LIMIT {int(limit)} OFFSET {int(offset)}"
        with self._reading() as conn:
            rows = conn.execute(f"SELECT * FROM flag_status{where} ORDER BY {_ORDER_SQL}{page}",
                                params).fetchall()
        return [dict(r) for r in rows]

    def count(self, **filters: str | None) -> int:
        where, params = _where(filters)
        with self._reading() as conn:
            return int(conn.execute(f"SELECT count(*) FROM flag_status{where}", params).fetchone()[0])

    def counts(self, **filters: str | None) -> dict[str, dict[str, int]]:
        """Flags per status and per flag type; each ignores its own filter, so the numbers
        say what choosing another status (or type) would show."""
        out: dict[str, dict[str, int]] = {}
        with self._reading() as conn:
            for column in ("status", "flag_type"):
                where, params = _where({k: v for k, v in filters.items() if k != column})
                rows = conn.execute(f"SELECT {column}, count(*) FROM flag_status{where} "
                                    f"GROUP BY {column}", params).fetchall()
                found = {r[0]: r[1] for r in rows}
                names = STATUSES if column == "status" else tuple(FLAG_TYPES)
                out[column] = {n: int(found.get(n, 0)) for n in names}
        return out

    def facets(self, state: str | None = None) -> dict[str, list[str]]:
        """The values the queue can be filtered by: states, lists, and the districts (of
        ``state`` when given)."""
        with self._reading() as conn:
            states = [r[0] for r in conn.execute("SELECT DISTINCT state FROM flags ORDER BY state")]
            lists = [r[0] for r in conn.execute("SELECT DISTINCT list FROM flags ORDER BY list")]
            if state:
                districts = [r[0] for r in conn.execute(
                    "SELECT DISTINCT district FROM flags WHERE state = ? ORDER BY district", (state,))]
            else:
                districts = [r[0] for r in conn.execute(
                    "SELECT DISTINCT district FROM flags ORDER BY district")]
        return {"state": states, "list": lists, "district": districts}

    def neighbours(self, flag_id: str, **filters: str | None) -> tuple[str | None, str | None]:
        """The flags just before and after ``flag_id`` in the queue order, within ``filters``."""
        return (self._step(flag_id, filters, forward=False),
                self._step(flag_id, filters, forward=True))

    def next_open(self, flag_id: str, **filters: str | None) -> str | None:
        """The next open flag after ``flag_id`` in the queue order within ``filters`` (their
        status ignored), wrapping round to the start; None when no other flag is open."""
        scope = {k: v for k, v in filters.items() if k != "status"} | {"status": "open"}
        found = self._step(flag_id, scope, forward=True)
        if found is None:
            first = self._select(scope, limit=2)
            found = next((r["flag_id"] for r in first if r["flag_id"] != flag_id), None)
        return found

    def position(self, flag_id: str, **filters: str | None) -> int | None:
        """1-based place of ``flag_id`` in the filtered queue (None if not in it)."""
        where, params = _where(filters)
        key = f"({_ORDER_SQL}) <= (SELECT {_ORDER_SQL} FROM flags WHERE flag_id = ?)"
        sql = f"SELECT count(*) FROM flag_status{where}{' AND ' if where else ' WHERE '}{key}"
        with self._reading() as conn:
            if conn.execute(f"SELECT 1 FROM flag_status{where}{' AND ' if where else ' WHERE '}"
                            "flag_id = ?", (*params, flag_id)).fetchone() is None:
                return None
            return int(conn.execute(sql, (*params, flag_id)).fetchone()[0])

    def _step(self, flag_id: str, filters: Mapping[str, str | None], *, forward: bool) -> str | None:
        where, params = _where(filters)
        op, direction = (">", "ASC") if forward else ("<", "DESC")
        key = f"({_ORDER_SQL}) {op} (SELECT {_ORDER_SQL} FROM flags WHERE flag_id = ?)"
        order = ", ".join(f"{c} {direction}" for c in ORDER)
        sql = (f"SELECT flag_id FROM flag_status{where}{' AND ' if where else ' WHERE '}{key} "
               f"ORDER BY {order} LIMIT 1")
        with self._reading() as conn:
            row = conn.execute(sql, (*params, flag_id)).fetchone()
        return row[0] if row else None

    # -- feedback: overrides and training pairs -------------------------------------------

    def corrections(self) -> list[dict[str, Any]]:
        """The standing correction of each listed product name: for every flag, its latest
        correction unless a later ``reopen`` withdrew it; the latest per normalised name."""
        with self._reading() as conn:
            rows = conn.execute(
                "SELECT f.flag_id, f.product, d.id, d.kind, d.codes, d.note, d.reviewer, d.decided_at "
                "FROM flags f JOIN decisions d ON d.id = (SELECT id FROM decisions WHERE flag_id = "
                "f.flag_id AND action IN ('correct', 'reopen') ORDER BY id DESC LIMIT 1) "
                "WHERE d.action = 'correct' AND f.product <> '' ORDER BY d.id").fetchall()
        latest: dict[str, dict[str, Any]] = {}
        for row in rows:
            key = normalize(row["product"])
            if key in latest and latest[key]["codes"] != tuple(row["codes"].split()):
                log.info("%r corrected differently on %s and %s; the later (%s) stands",
                         row["product"], latest[key]["flag_id"], row["flag_id"], row["flag_id"])
            latest[key] = {"product": row["product"], "kind": row["kind"],
                           "codes": tuple(row["codes"].split()), "note": row["note"],
                           "reviewer": row["reviewer"], "flag_id": row["flag_id"],
                           "decided_at": row["decided_at"], "decision_id": row["id"]}
        return list(latest.values())

    def overrides(self) -> dict[str, Any]:
        """{listed product: :class:`hsmatch.align.Override`} for the next scoring run."""
        from hsmatch.align import Override

        out = {}
        for c in self.corrections():
            why = f"{c['reviewer']} on {c['flag_id']}" + (f": {c['note']}" if c["note"] else "")
            out[c["product"]] = Override(c["kind"], c["codes"], why)
        return out

    def to_training(self, path: str | os.PathLike[str] | None = None, *,
                    training_dir: str | os.PathLike[str] | None = None) -> tuple[Path, int]:
        """Write the standing corrections as labelled pairs (text, kind, codes, family,
        reason) to ``path`` (default ``<training_data>/reviewed/corrections.csv``), which
        ``hsmatch train`` and the classifier's lexicon read. The file is rewritten from the
        store each time. Returns the path and the number of pairs."""
        if path is None:
            from hsmatch.paths import training_data_dir

            path = training_data_dir(training_dir) / "reviewed" / "corrections.csv"
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        rows = []
        for c in sorted(self.corrections(), key=lambda c: normalize(c["product"])):
            reason = (f"reviewer {c['reviewer']} corrected flag {c['flag_id']} on "
                      f"{c['decided_at'][:10]}" + (f": {c['note']}" if c["note"] else ""))
            rows.append({"text": c["product"], "kind": c["kind"], "codes": " ".join(c["codes"]),
                         "family": "review:" + normalize(c["product"]),
                         "reason": " ".join(reason.split())})
        tmp = path.with_name(path.name + ".tmp")
        with open(tmp, "w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=["text", "kind", "codes", "family", "reason"])
            writer.writeheader()
            writer.writerows(rows)
        tmp.replace(path)
        return path, len(rows)

    # -- the CSV round trip ---------------------------------------------------------------

    def export_csv(self, path: str | os.PathLike[str], **filters: str | None) -> int:
        """Write the (filtered) queue for a spreadsheet; reviewers fill action, kind, codes,
        note and reviewer and read it back with :meth:`import_csv`. Returns the row count."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        notes = self._last_notes()
        rows = self._select(filters)
        # utf-8-sig: spreadsheet programs then read the names' accents right.
        with open(path, "w", newline="", encoding="utf-8-sig") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(EXPORT_COLUMNS))
            writer.writeheader()
            for row in rows:
                try:
                    evidence = json.loads(row["evidence_json"] or "{}")
                except json.JSONDecodeError:
                    evidence = {}
                record = {c: row.get(c) or "" for c in ("flag_id", "status", "flag_type", "list", "state",
                                                        "district", "product", "code", "message",
                                                        "decision", "decided_by", "decided_at")}
                record.update(classifier_kind=evidence.get("kind", ""),
                              classifier_codes=" ".join(evidence.get("codes", []) or []),
                              confidence=evidence.get("confidence", ""),
                              last_note=notes.get(row["flag_id"], ""),
                              action="", kind="", codes="", note="", reviewer="")
                writer.writerow({k: _sheet_safe(v) for k, v in record.items()})
        return len(rows)

    def _last_notes(self) -> dict[str, str]:
        with self._reading() as conn:
            rows = conn.execute("SELECT flag_id, note FROM decisions WHERE note <> '' AND id IN "
                                "(SELECT max(id) FROM decisions WHERE note <> '' GROUP BY flag_id)")
            return {r[0]: r[1] for r in rows}

    def import_csv(self, path: str | os.PathLike[str]) -> ImportReport:
        """Read decisions back from a CSV (columns flag_id, action, reviewer, and kind, codes,
        note). Each row is validated and committed on its own: a bad row is reported with
        its line and the others are saved; rows without an action are skipped; a row the
        store already has as the flag's latest decision is not added twice."""
        path = Path(path)
        name = path.name
        try:
            with open(path, encoding="utf-8-sig", newline="") as handle:
                reader = csv.DictReader(handle)
                columns = [(c or "").strip().lower() for c in (reader.fieldnames or [])]
                missing = [c for c in IMPORT_COLUMNS if c not in columns]
                if missing:
                    raise InputError(f"{name}: missing column(s) {missing}; the columns are "
                                     f"{columns}. Start from `hsmatch review export`")
                reader.fieldnames = columns
                records = list(reader)
        except FileNotFoundError as exc:
            raise InputError(f"{path}: file not found") from exc
        except UnicodeDecodeError as exc:
            raise InputError(f"{name}: not UTF-8 (byte {exc.object[exc.start]:#x} at position "
                             f"{exc.start}); save it from the spreadsheet as 'CSV UTF-8'") from exc
        report = ImportReport(source=str(path))
        for line, record in enumerate(records, start=2):
            row = {k: (v or "").strip() for k, v in record.items() if k}
            if not row.get("action"):
                report.blank += 1
                continue
            try:
                saved = self.decide(row.get("flag_id", ""), row["action"], row.get("reviewer", ""),
                                    kind=row.get("kind"), codes=_sheet_unsafe(row.get("codes", "")),
                                    note=_sheet_unsafe(row.get("note", "")),
                                    source=f"import {name} line {line}", skip_if_unchanged=True)
            except (InputError, CodeError) as exc:
                report.errors.append(RowWarning(name, line, _column_of(str(exc)), str(exc)))
                continue
            if saved is None:
                report.unchanged += 1
            else:
                report.saved += 1
        return report


# -- helpers ------------------------------------------------------------------------------


def _flag_rows(frame: pd.DataFrame, label: str) -> list[dict[str, str]]:
    """A run's flags as clean text rows; a malformed one is an error naming its line."""
    missing = [c for c in FLAG_COLUMNS if c not in frame.columns]
    if missing:
        raise DataError(f"{label}: missing column(s) {missing}; is this a flags table written by "
                        "`hsmatch score`?")
    out: dict[str, dict[str, str]] = {}
    for line, record in enumerate(frame[list(FLAG_COLUMNS)].to_dict("records"), start=2):
        row = {c: _text(record[c]) for c in FLAG_COLUMNS}
        if not row["flag_id"]:
            raise DataError(f"{label} line {line}: empty flag_id")
        if row["flag_type"] not in FLAG_TYPES:
            raise DataError(f"{label} line {line}: unknown flag type {row['flag_type']!r}; known: "
                            f"{sorted(FLAG_TYPES)}")
        try:
            json.loads(row["evidence_json"] or "{}")
        except json.JSONDecodeError as exc:
            raise DataError(f"{label} line {line}: evidence_json is not JSON ({exc})") from exc
        row["evidence_json"] = row["evidence_json"] or "{}"
        if row["flag_id"] in out:
            log.info("%s line %d: flag %s repeated; kept once", label, line, row["flag_id"])
            continue
        out[row["flag_id"]] = row
    return list(out.values())


def _text(value: Any) -> str:
    """A cell as text; missing values (None, NaN, pd.NA) as ''."""
    if value is None or type(value).__name__ in ("NAType", "NaTType"):
        return ""
    if isinstance(value, float) and value != value:
        return ""
    return str(value)


def _where(filters: Mapping[str, str | None]) -> tuple[str, list[str]]:
    unknown = [k for k in filters if k not in FILTERS]
    if unknown:
        raise InputError(f"unknown queue filter(s) {unknown}; filters are {list(FILTERS)}")
    clauses, params = [], []
    for key in FILTERS:
        value = str(filters.get(key) or "").strip()
        if not value:
            continue
        if key == "status" and value not in STATUSES:
            raise InputError(f"unknown status {value!r}; statuses are {', '.join(STATUSES)}")
        if key == "flag_type" and value not in FLAG_TYPES:
            raise InputError(f"unknown flag type {value!r}; types are {', '.join(FLAG_TYPES)}")
        if key == "q":
            clauses.append("(product LIKE ? ESCAPE '\\' OR district LIKE ? ESCAPE '\\' "
                           "OR code LIKE ? ESCAPE '\\' OR message LIKE ? ESCAPE '\\' OR flag_id = ?)")
            like = "%" + re.sub(r"([%_\\])", r"\\\1", value) + "%"
            params += [like, like, like, like, value]
        else:
            clauses.append(f"{key} = ?")
            params.append(value)
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), params


def _parse_codes(codes: str | Sequence[str] | None, where: str) -> list[str]:
    if codes is None:
        return []
    text = codes if isinstance(codes, str) else " ".join(str(c) for c in codes)
    for token in re.split(r"[\s,;|]+", text.strip()):
        if token.isdigit() and len(token) in (1, 3, 5, 7):
            raise InputError(f"{where}: code {token!r} has {len(token)} digits; a spreadsheet "
                             f"probably dropped its leading zero ({token.zfill(len(token) + 1)}?): "
                             "format the codes column as text and type the code again")
    try:
        return split_codes(text, where=where)
    except CodeError as exc:
        raise InputError(f"{exc}; write codes as text (e.g. 10063020 or 1006.30.20), several "
                         "separated by spaces") from exc


def _correction_kind(kind: str, codes: list[str], where: str) -> str:
    """The kind of a correction: as given, or plain from the codes (all SAC: service; all
    8-digit goods lines: goods; all chapters/headings: broad)."""
    if kind:
        if kind not in KINDS:
            raise InputError(f"{where}: kind {kind!r} is not one of {', '.join(KINDS)}")
        return kind
    if not codes:
        raise InputError(f"{where}: a correction needs the right code(s), or kind 'unknown' for "
                         "a name that is not a product")
    if all(c.startswith("99") for c in codes):
        return "service"
    if all(len(c) == 8 for c in codes):
        return "goods"
    if all(len(c) in (2, 4) for c in codes):
        return "broad"
    raise InputError(f"{where}: codes {codes} mix levels; give the kind (goods, broad, service)")


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _sheet_safe(value: Any) -> str:
    """A cell a spreadsheet will not run as a formula (names come from outside files)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _sheet_unsafe(value: str) -> str:
    """Undo :func:`_sheet_safe` and Excel's ="0801" trick for keeping leading zeros."""
    text = value.strip()
    if text.startswith("'") and (text[1:2] in _FORMULA_START or text[1:2].isdigit()):
        text = text[1:]
    match = re.fullmatch(r'="(.*)"', text)
    return match.group(1) if match else text


def _column_of(message: str) -> str:
    lowered = message.lower()
    for column, words in (("reviewer", ("reviewer",)), ("flag_id", ("no flag", "flag id")),
                          ("action", ("action",)), ("codes", ("code",)), ("kind", ("kind",)),
                          ("note", ("note",))):
        if any(w in lowered for w in words):
            return column
    return ""
