#!/usr/bin/env bash
# systemd/install.sh PREFIX: install gymd on this machine (`make install`).
#
#   PREFIX/bin/gymd, PREFIX/bin/gymctl           from bin/ (GYM_BIN to change)
#   PREFIX/bin/gym-backup                        from systemd/gym-backup.sh
#   PREFIX/share/gym/migrations/*.sql            from migrations/
#   PREFIX/share/gym/console/                    from console/, when it exists
#   PREFIX/share/doc/gym/                        operations.md, openapi.yaml, gym-alerts.yml
#   /etc/systemd/system/gym.socket, gym.service, gym-migrate.service,
#     gym-backup.service, gym-backup.timer (the timer is not enabled)
#                                                with /usr/local replaced by PREFIX
#   /etc/gym/gymd.conf                           the example, only if absent
#   /etc/gym/gymd.conf.example                   always (to compare after upgrades)
#   /etc/gym/secrets/ (0700), /etc/gym/wechatpay/  created if absent, never entered
#   /var/backups/gym/ (0700, postgres)           created if absent
#   /etc/nginx/fastcgi_gym_params                when nginx is installed
#   /etc/nginx/sites-available/gym.conf          only if absent, its console alias
#                                                at PREFIX/share/gym/console/; never enabled
#   the gym system user and group                if missing
#
# Idempotent: run it again after every build.  It never reads, writes or
# changes the mode of anything in /etc/gym/secrets/, never overwrites
# /etc/gym/gymd.conf or an existing nginx site, and starts or restarts
# nothing: it only runs `systemctl daemon-reload` (docs/operations.md says
# what comes next).
#
# DESTDIR=/some/dir installs into a staging tree instead (packaging, tests):
# no user is created, no ownership changed, systemd is not told.
set -euo pipefail

PROG=install.sh
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
DESTDIR="${DESTDIR:-}"
SRC_BIN="${GYM_BIN:-$ROOT/bin}"
UNITS=(gym.socket gym.service gym-migrate.service gym-backup.service gym-backup.timer)

log() {
	printf '%s: %s\n' "$PROG" "$*" >&2
}

die() {
	printf '%s: error: %s\n' "$PROG" "$*" >&2
	exit 1
}

# sed_repl STR: STR escaped for the replacement side of s|...|...|.
sed_repl() {
	local s="$1"
	s="${s//\\/\\\\}"
	s="${s//&/\\&}"
	s="${s//|/\\|}"
	printf '%s' "$s"
}

# install_if_changed MODE SRC DEST: install SRC as DEST unless DEST already
# has the same bytes; says what it did.
install_if_changed() {
	local mode="$1" src="$2" dest="$3"
	if [[ -f "$dest" ]] && cmp -s "$src" "$dest"; then
		chmod "$mode" "$dest"
		return 0
	fi
	install -D -m "$mode" "$src" "$dest"
	log "installed ${dest#"$DESTDIR"}"
}

check_sources() {
	local f
	for f in gymd gymctl; do
		[[ -x "$SRC_BIN/$f" ]] || die "$SRC_BIN/$f not found: build first (make)"
	done
	for f in "${UNITS[@]}" gymd.conf.example gym-backup.sh; do
		[[ -r "$ROOT/systemd/$f" ]] || die "$ROOT/systemd/$f not found"
	done
	compgen -G "$ROOT/migrations/[0-9][0-9][0-9][0-9]_*.sql" >/dev/null ||
		die "no migrations in $ROOT/migrations"
}

make_user() {
	if [[ -n "$DESTDIR" ]]; then
		log "DESTDIR set: not creating the gym user"
		return 0
	fi
	if ! getent group gym >/dev/null; then
		groupadd --system gym
		log "created group gym"
	fi
	if ! getent passwd gym >/dev/null; then
		useradd --system --gid gym --home-dir /nonexistent --no-create-home \
			--shell /usr/sbin/nologin --comment "gym booking service (gymd)" gym
		log "created user gym"
	fi
}

install_programs() {
	local f
	for f in gymd gymctl; do
		# install(1) replaces the file (new inode), so a running gymd is unaffected
		install_if_changed 0755 "$SRC_BIN/$f" "$DESTDIR$PREFIX/bin/$f"
	done
	install_if_changed 0755 "$ROOT/systemd/gym-backup.sh" "$DESTDIR$PREFIX/bin/gym-backup"
}

install_data() {
	local f dest="$DESTDIR$PREFIX/share/gym"
	install -d -m 0755 "$dest/migrations"
	for f in "$ROOT"/migrations/[0-9][0-9][0-9][0-9]_*.sql; do
		install_if_changed 0644 "$f" "$dest/migrations/${f##*/}"
	done
	if [[ -d "$ROOT/console" ]] && ! diff -r -q "$ROOT/console" "$dest/console" >/dev/null 2>&1; then
		# replaced whole, so files removed from console/ go too
		rm -rf "$dest/console.new"
		cp -R "$ROOT/console" "$dest/console.new"
		chmod -R u=rwX,go=rX "$dest/console.new"
		rm -rf "$dest/console.old"
		if [[ -d "$dest/console" ]]; then
			mv "$dest/console" "$dest/console.old"
		fi
		mv "$dest/console.new" "$dest/console"
		rm -rf "$dest/console.old"
		log "installed ${dest#"$DESTDIR"}/console/"
	fi
	for f in operations.md openapi.yaml; do
		if [[ -r "$ROOT/docs/$f" ]]; then
			install_if_changed 0644 "$ROOT/docs/$f" "$DESTDIR$PREFIX/share/doc/gym/$f"
		fi
	done
	if [[ -r "$ROOT/monitoring/gym-alerts.yml" ]]; then
		install_if_changed 0644 "$ROOT/monitoring/gym-alerts.yml" "$DESTDIR$PREFIX/share/doc/gym/gym-alerts.yml"
	fi
}

install_units() {
	local unit tmp
	tmp="$(mktemp)"
	# shellcheck disable=SC2064 # expand now: tmp is local
	trap "rm -f '$tmp'" EXIT
	for unit in "${UNITS[@]}"; do
		sed "s|/usr/local/|$(sed_repl "$PREFIX")/|g" "$ROOT/systemd/$unit" >"$tmp"
		install_if_changed 0644 "$tmp" "$DESTDIR/etc/systemd/system/$unit"
	done
	rm -f "$tmp"
	trap - EXIT
}

install_config() {
	local etc="$DESTDIR/etc/gym"
	install -d -m 0755 "$etc"
	if [[ ! -d "$etc/secrets" ]]; then
		install -d -m 0700 "$etc/secrets"
		log "created ${etc#"$DESTDIR"}/secrets/ (0700): put the five secrets there, mode 600"
	fi
	[[ -d "$etc/wechatpay" ]] || install -d -m 0755 "$etc/wechatpay"
	if [[ ! -d "$DESTDIR/var/backups/gym" ]]; then
		install -d -m 0700 "$DESTDIR/var/backups/gym"
		if [[ -z "$DESTDIR" ]] && getent passwd postgres >/dev/null; then
			chown postgres:postgres /var/backups/gym
		fi
		log "created /var/backups/gym/ (0700) for gym-backup.timer"
	fi
	install_if_changed 0644 "$ROOT/systemd/gymd.conf.example" "$etc/gymd.conf.example"
	if [[ -e "$etc/gymd.conf" ]]; then
		log "kept ${etc#"$DESTDIR"}/gymd.conf (compare with gymd.conf.example after upgrades)"
		return 0
	fi
	install -m 0640 "$ROOT/systemd/gymd.conf.example" "$etc/gymd.conf"
	if [[ -z "$DESTDIR" ]]; then
		chown root:gym "$etc/gymd.conf"
	fi
	log "installed ${etc#"$DESTDIR"}/gymd.conf from the example: edit it (every CHANGE)"
}

install_nginx() {
	local ngx="$DESTDIR/etc/nginx" tmp
	if [[ ! -d "$ngx" ]]; then
		log "no ${ngx#"$DESTDIR"}: skipping the nginx files (install nginx, then run me again)"
		return 0
	fi
	install_if_changed 0644 "$ROOT/nginx/fastcgi_gym_params" "$ngx/fastcgi_gym_params"
	if [[ -e "$ngx/sites-available/gym.conf" ]]; then
		log "kept /etc/nginx/sites-available/gym.conf"
		if ! grep -q "alias $PREFIX/share/gym/console/;" "$ngx/sites-available/gym.conf"; then
			log "warning: its /console/ alias is not $PREFIX/share/gym/console/: the console would answer 404"
		fi
		return 0
	fi
	tmp="$(mktemp)"
	# shellcheck disable=SC2064 # expand now: tmp is local
	trap "rm -f '$tmp'" EXIT
	# the console's alias follows PREFIX (it is served from PREFIX/share/gym/console/)
	sed "s|/usr/local/share/gym/|$(sed_repl "$PREFIX")/share/gym/|g" "$ROOT/nginx/gym.conf" >"$tmp"
	install -D -m 0644 "$tmp" "$ngx/sites-available/gym.conf"
	log "installed /etc/nginx/sites-available/gym.conf (not enabled: set server_name and certificates first)"
	rm -f "$tmp"
	trap - EXIT
}

main() {
	(($# <= 1)) || die "usage: $PROG [PREFIX]"
	PREFIX="${1:-/usr/local}"
	PREFIX="${PREFIX%/}"
	[[ "$PREFIX" == /* ]] || die "PREFIX must be an absolute path (got '$PREFIX')"
	if [[ -z "$DESTDIR" && "$(id -u)" -ne 0 ]]; then
		die "run as root (sudo make install), or set DESTDIR to stage the files"
	fi
	check_sources
	make_user
	install_programs
	install_data
	install_units
	install_config
	install_nginx
	if [[ -z "$DESTDIR" && -d /run/systemd/system ]]; then
		systemctl daemon-reload
		log "systemctl daemon-reload done"
	fi
	log "done; next: docs/operations.md (secrets, database, enable gym.socket and gym.service)"
}

main "$@"
