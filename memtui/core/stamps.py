"""Texts stamped clean: what lets an export skip reading 20 MB for secrets every time.

Every text was redacted when memtui stored it, and an export still checks what it writes (a last
line of defence against a text that came in another way: raw SQL, an older memtui, a redactor that
has learnt a new kind of secret since). Checking a large export costs far more than rendering it,
so each text is checked once: `memory.clean_stamp = redact_stamp()` records that the redactor, as
it is now, leaves the text as it is, and that it can go into any document as it is (`fits`).

* Whatever writes a text makes it unchecked again: the `memory_text_au` trigger (db.py) clears
  the stamp on every UPDATE OF text, and a new row has none.
* Every non-NULL stamp in a store equals meta "clean_stamp": when the redactor changes (its
  source or the Python version), the first writer that notices clears every stamp first.
* memtui stamps a text when it approves, adds, edits or loads it (`stamp_memories`, inside that
  transaction), and an export stamps what it had to check (`check`) when it can write at once;
  then, in the read transaction it reads the texts in, it makes sure every one is stamped
  (`all_checked`). The read-only SessionStart hook and a busy store check without stamping.

Light (no peewee): the SessionStart hook imports it through export.py.
"""

from __future__ import annotations

import sys
import zlib
from pathlib import Path
from typing import Callable

from memtui.core.redact import clean_document

META_KEY = "clean_stamp"
_STAMP: list[int] = []


def redact_stamp() -> int:
    """A number for the redactor as it is now: the CRC-32 of redact.py's source and the Python
    version (whose `re` it runs on), plus one. 0 when the source cannot be read (e.g. from a zip):
    then nothing is stamped and every export checks every text."""
    if not _STAMP:
        from memtui.core import redact

        try:
            source = Path(redact.__file__).read_bytes()
        except (OSError, TypeError):
            _STAMP.append(0)
        else:
            _STAMP.append(zlib.crc32(b"%d.%d\0" % sys.version_info[:2] + source) + 1)
    return _STAMP[0]


def _shape_fits(text: str) -> bool:
    # one line with nothing to strip, no memtui marker, no private key's BEGIN/END line (the
    # redactor reads a key across lines, so a document of such texts is read whole)
    return not ("\n" in text or "<!--" in text or "-----BEGIN " in text or "-----END " in text
                or text.strip() != text)


def fits(texts: list[str]) -> list[bool]:
    """For each text: may it be stamped, i.e. is it one line ("- " and the text, as a document has
    it) that the redactor leaves as it is, of the shape `_shape_fits` asks for."""
    ok = [_shape_fits(t) for t in texts]
    lines = ["- " + t for t, good in zip(texts, ok) if good]
    if not lines:
        return ok
    joined = "\n".join(lines)
    cleaned = clean_document(joined)
    if cleaned == joined:
        return ok
    after = cleaned.split("\n")
    if len(after) != len(lines):  # cannot happen (a line's redaction stays within it): none fits
        return [False] * len(texts)
    verdicts = iter(a == b for a, b in zip(lines, after))
    return [good and next(verdicts) for good in ok]


def _writable(db) -> bool:
    return hasattr(db, "atomic")  # the SessionStart hook's read-only connection has execute_sql only


def at_once(db, work: Callable[[], None]) -> None:
    """Run `work` in a transaction if the store can be written at once; else (busy: an import
    writing, never waited for; or read-only) not at all."""
    if not _writable(db):
        return
    conn = db.connection()
    timeout = conn.execute("PRAGMA busy_timeout").fetchone()[0]
    conn.execute("PRAGMA busy_timeout = 0")
    try:
        with db.atomic():
            work()
    except Exception as exc:  # locked, read-only file, ... (peewee wraps sqlite3's errors)
        message = str(exc).lower().replace("-", "").replace(" ", "")
        if not ("locked" in message or "readonly" in message or "busy" in message):
            raise
    finally:
        conn.execute(f"PRAGMA busy_timeout = {int(timeout)}")


def _current(db, stamp: int) -> bool:
    row = db.execute_sql("SELECT value FROM meta WHERE key = ?", (META_KEY,)).fetchone()
    return bool(stamp) and bool(row) and row[0] == str(stamp)


def current_stamp(db) -> int | None:
    """This redactor's stamp if the store's stamps are this redactor's (a text carrying it is
    clean); None if not (then no stamp can be trusted)."""
    stamp = redact_stamp()
    return stamp if _current(db, stamp) else None


def make_current(db, stamp: int) -> None:
    """(In a write transaction.) The store's stamps become this redactor's: any other is cleared."""
    if not _current(db, stamp):
        db.execute_sql("UPDATE memory SET clean_stamp = NULL WHERE clean_stamp IS NOT NULL")
        # the JSON pieces were checked by that redactor too (export._fill_json; db.JSON_SQL's trigger drops them)
        db.execute_sql("UPDATE memory SET json_ready = NULL WHERE json_ready IS NOT NULL")
        db.execute_sql("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (META_KEY, str(stamp)))


def _stamp_fitting(db, rows: list[tuple[int, str]], stamp: int) -> None:
    """(In a write transaction, stamps current.) Stamp the rows whose text fits."""
    verdicts = fits([text for _, text in rows])
    good = [i for (i, _), ok in zip(rows, verdicts) if ok]
    for start in range(0, len(good), 50_000):
        chunk = good[start : start + 50_000]
        db.execute_sql(
            f"UPDATE memory SET clean_stamp = ? WHERE id IN ({','.join(map(str, chunk))})", (stamp,)
        )


def stamp_memories(db, ids: list[int]) -> None:
    """(Inside the caller's write transaction.) Check and stamp the texts of these memories that
    are not stamped yet: memtui's own writes (approve, add, edit, load) do it as they go, so an
    export finds them checked."""
    stamp = redact_stamp()
    if not stamp or not ids:
        return
    make_current(db, stamp)
    rows: list[tuple[int, str]] = []
    for start in range(0, len(ids), 50_000):
        chunk = ids[start : start + 50_000]
        rows += db.execute_sql(
            f"SELECT id, text FROM memory WHERE clean_stamp IS NULL AND id IN ({','.join(map(str, map(int, chunk)))})"
        ).fetchall()
    _stamp_fitting(db, rows, stamp)


def check(db, exportable: str, where: str, args: list) -> None:
    """Check and stamp the texts an export reads (`exportable` and `where` on `memory m`) that are
    not stamped yet, when the store can be written at once (else leave them to `all_checked`)."""
    stamp = redact_stamp()
    base = f" FROM memory m WHERE {exportable} AND m.clean_stamp IS NULL AND {where}"
    if not stamp or (_current(db, stamp) and not db.execute_sql(f"SELECT 1{base} LIMIT 1", args).fetchone()):
        return  # the usual case: nothing to read (db.py's memory_unchecked index)

    def check_and_stamp() -> None:
        make_current(db, stamp)
        _stamp_fitting(db, db.execute_sql(f"SELECT m.id, m.text{base}", args).fetchall(), stamp)

    at_once(db, check_and_stamp)


def all_checked(db, exportable: str, where: str, args: list) -> bool:
    """Whether every text an export reads is stamped clean or found clean now (those without a
    stamp, or all of them where no stamp can be trusted: a store not written since the redactor
    changed). Call `check` first, which stamps what it can; call this in the read transaction the
    export reads its text in, so that nothing written in between goes out unchecked. False when a
    text does not fit (then the export scrubs entry by entry)."""
    unstamped = " AND m.clean_stamp IS NULL" if _current(db, redact_stamp()) else ""  # (else none is trusted)
    rows = db.execute_sql(f"SELECT m.text FROM memory m WHERE {exportable}{unstamped} AND {where}", args).fetchall()
    if not rows:
        return True  # the usual case: every text stamped (db.py's memory_unchecked index finds none)
    return all(fits([text for (text,) in rows]))
