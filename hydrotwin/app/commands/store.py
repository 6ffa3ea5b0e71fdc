"""``hydrotwin store backup|check|restore``: look after the observation store.

* ``hydrotwin store backup --store obs.db --to DIR [--keep N]`` — an online, consistent copy
  (SQLite backup API; safe while ``hydrotwin live`` is ingesting), checked before it is kept;
* ``hydrotwin store check --store obs.db [--full]`` — ``quick_check`` (``integrity_check``
  with ``--full``), row count, WAL size and what waits in the spool; exit 1 if anything is wrong;
* ``hydrotwin store restore --from BACKUP --store obs.db`` — backup + readable rows of the
  damaged store + the spool, replayed by key; the damaged files are kept beside it.

PostgreSQL: ``check`` works on a ``postgresql://`` URL; back up with ``pg_dump``/PITR.
"""

from __future__ import annotations

import argparse
import sys


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("store", help="back up, check and restore the observation store")
    ss = p.add_subparsers(dest="store_command", metavar="ACTION", required=True)

    b = ss.add_parser("backup", help="online backup of a SQLite store into a folder")
    b.add_argument("--store", required=True, help="SQLite store file (obs.db)")
    b.add_argument("--to", required=True, help="backup folder (created)")
    b.add_argument("--keep", type=int, help="keep only the newest N backups in the folder")
    b.set_defaults(func=run_backup)

    c = ss.add_parser("check", help="check a store (and its spool) without changing it")
    c.add_argument("--store", required=True, help="SQLite file or postgresql://… URL")
    c.add_argument("--full", action="store_true", help="integrity_check instead of quick_check")
    c.add_argument("--spool", help="spool file (default: beside a SQLite store)")
    c.set_defaults(func=run_check)

    r = ss.add_parser("restore", help="rebuild a store from a backup and the spool")
    r.add_argument("--store", required=True, help="the store to restore (obs.db)")
    r.add_argument("--from", dest="backup", required=True, help="backup file to start from")
    r.add_argument("--spool", help="spool file (default: obs.db.spool beside the store)")
    r.add_argument(
        "--no-salvage", action="store_true", help="do not read rows from the damaged store"
    )
    r.set_defaults(func=run_restore)


def run_backup(args: argparse.Namespace) -> int:
    from hydrotwin.live.maintenance import backup

    if args.keep is not None and args.keep < 1:
        print("hydrotwin store backup: error: --keep must be at least 1", file=sys.stderr)
        return 2
    print(backup(args.store, args.to, args.keep))
    return 0


def run_check(args: argparse.Namespace) -> int:
    from hydrotwin.live.maintenance import check_store

    rep = check_store(args.store, full=args.full, spool=args.spool)
    what = "integrity_check" if args.full else "quick_check"
    print(f"store {rep.store}: {what} {'ok' if not rep.problems else 'FAILED'}")
    if rep.observations is not None:
        print(f"  observations: {rep.observations}")
    if rep.wal_bytes:
        print(f"  write-ahead log: {rep.wal_bytes} bytes not yet checkpointed")
    if rep.spool:
        print(f"  spool {rep.spool}: {rep.spooled_observations} observations waiting")
        if rep.spool_bad_lines:
            print(f"  spool: {rep.spool_bad_lines} damaged lines (skipped on replay)")
    for p in rep.problems:
        print(f"hydrotwin store check: error: {p}", file=sys.stderr)
    return 0 if rep.ok else 1


def run_restore(args: argparse.Namespace) -> int:
    from hydrotwin.live.maintenance import restore

    rep = restore(args.store, args.backup, spool=args.spool, salvage=not args.no_salvage)
    print(
        f"restored {rep.store} from {rep.backup}: {rep.observations} observations "
        f"({rep.from_backup} from the backup, {rep.salvaged} more read from the damaged store, "
        f"{rep.spooled} replayed from the spool)"
    )
    if rep.moved_aside:
        print(f"  the damaged store is kept as {rep.moved_aside}")
    if rep.spool_archived:
        print(f"  the replayed spool is kept as {rep.spool_archived}")
    return 0
