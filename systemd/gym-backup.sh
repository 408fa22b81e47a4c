#!/usr/bin/env bash
# gym-backup: one pg_dump of the gym database, then retention (installed as
# PREFIX/bin/gym-backup; gym-backup.timer runs it nightly as postgres).
#
#   GYM_BACKUP_DB    the database: a name or a libpq conninfo/URI (default gym)
#   GYM_BACKUP_DIR   where the dumps go (default /var/backups/gym)
#   GYM_BACKUP_KEEP  how many dumps to keep, newest first (default 14)
#
# The dump is custom format (pg_dump -Fc: compressed, restorable table by
# table) named gym-YYYYMMDDTHHMMSSZ.dump.  It is written as .partial and
# renamed when complete, so a dump that failed halfway is never taken for a
# backup; older dumps are removed only after a new one succeeded.  A
# .partial left by a crash is removed on the next run.  Exit status: 0, or
# 1 when the dump failed (systemd marks the service failed).
set -euo pipefail

PROG=gym-backup
DB="${GYM_BACKUP_DB:-gym}"
DIR="${GYM_BACKUP_DIR:-/var/backups/gym}"
KEEP="${GYM_BACKUP_KEEP:-14}"

die() {
	printf '%s: %s\n' "$PROG" "$*" >&2
	exit 1
}

[[ "$KEEP" =~ ^[1-9][0-9]*$ ]] || die "GYM_BACKUP_KEEP must be a whole number from 1 (got '$KEEP')"
[[ -d "$DIR" && -w "$DIR" ]] || die "$DIR is not a writable folder"
umask 077
name="gym-$(date -u +%Y%m%dT%H%M%SZ).dump"
rm -f "$DIR"/gym-*.dump.partial
pg_dump -Fc -d "$DB" -f "$DIR/$name.partial" || {
	rm -f "$DIR/$name.partial"
	die "pg_dump failed: kept the earlier dumps"
}
mv "$DIR/$name.partial" "$DIR/$name"
printf '%s: wrote %s (%s bytes)\n' "$PROG" "$DIR/$name" "$(stat -c %s "$DIR/$name")"
# the names sort by time; keep the newest KEEP
mapfile -t old < <(find "$DIR" -maxdepth 1 -name 'gym-*.dump' -printf '%f\n' | sort -r |
	tail -n +"$((KEEP + 1))")
for f in "${old[@]}"; do
	rm -f "$DIR/$f"
	printf '%s: removed %s (keeping %d)\n' "$PROG" "$DIR/$f" "$KEEP"
done
