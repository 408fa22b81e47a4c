#!/usr/bin/env bash
# test/ops/check_tls.sh: what a TLS scanner (testssl.sh-style probes made with
# openssl s_client) finds on our nginx sites.  Each site is rendered into a temp
# dir with a throwaway certificate and started on a loopback port of its own:
#
#   prod      nginx/gym.conf, as installed (the :443 site and the :80 redirect)
#   dev       nginx/gym-dev.conf.in, rendered as test/env/stack.sh renders it
#   control   a deliberately weak site (TLS 1.0, every cipher): the probes must
#             see its weaknesses, or their verdicts on the other two mean nothing
#
# Checks on prod: TLS 1.0 and 1.1 refused; TLS 1.2 and 1.3 accepted; no NULL,
# anonymous, export, RC4, DES/3DES or MD5 cipher; every TLS 1.2 cipher the
# server accepts (each one the local openssl knows is tried) is ECDHE with
# AES-GCM or ChaCha20-Poly1305; secure renegotiation, no compression, no
# session tickets; HSTS (a year), nosniff, no nginx version; :80 redirects to
# https.  On dev: TLS 1.0/1.1 refused, 1.2/1.3 accepted, no weak cipher (its
# CBC and non-forward-secret ciphers are listed, not failed: it only ever
# listens on loopback).
#
# Ports: 28600..28604 + GYM_PORT_OFFSET.  Nothing outside the temp dir is
# written; the nginx processes started here are stopped at exit.
# Exit status: 0 when nothing failed (a missing tool is a SKIP), 1 otherwise.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)"
OFF="${GYM_PORT_OFFSET:-0}"
[[ "$OFF" =~ ^[0-9]{1,4}$ ]] || { echo "GYM_PORT_OFFSET must be a small number" >&2; exit 2; }
P_PROD=$((28600 + OFF)) P_PROD_HTTP=$((28601 + OFF)) P_DEV=$((28602 + OFF))
# the site's loopback server (Nchan's publisher), moved off 9101
P_PROD_PUSH=$((28609 + OFF)) P_DEV_PUSH=$((28610 + OFF))
P_DEV_SIM=$((28603 + OFF)) P_CONTROL=$((28604 + OFF))
HOST=gym.example.com
WEAK='NULL:eNULL:aNULL:EXPORT:RC4:3DES:DES:MD5:@SECLEVEL=0'

PASSED=0 FAILED=0 SKIPPED=0
TMP=""

# cleanup: stop every nginx started here (their pid files are under TMP: the
# checks run in subshells, so no list of them survives), then remove TMP.
cleanup() {
	local f pid i
	if [[ -z "$TMP" || ! -d "$TMP" ]]; then
		return 0
	fi
	for f in "$TMP"/*/nginx.pid; do
		[[ -f "$f" ]] || continue
		pid="$(cat "$f" 2>/dev/null || true)"
		[[ "$pid" =~ ^[0-9]+$ ]] || continue
		kill -QUIT "$pid" 2>/dev/null || continue
		for ((i = 0; i < 50; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true
	done
	rm -rf "$TMP"
}

# run_check NAME CMD...: as in check_ops.sh (0 pass, 77 skip, else fail).
run_check() {
	local name="$1" out rc=0
	shift
	out="$("$@" 2>&1)" || rc=$?
	case "$rc" in
	0) PASSED=$((PASSED + 1)); printf 'PASS  %s\n' "$name" ;;
	77) SKIPPED=$((SKIPPED + 1)); printf 'SKIP  %s\n' "$name" ;;
	*) FAILED=$((FAILED + 1)); printf 'FAIL  %s\n' "$name" ;;
	esac
	if [[ -n "$out" ]]; then
		printf '%s\n' "$out" | sed 's/^/      /'
	fi
}

have() {
	command -v "$1" >/dev/null 2>&1
}

nginx_bin() {
	if have nginx; then
		command -v nginx
	elif [[ -x /usr/sbin/nginx ]]; then
		printf '/usr/sbin/nginx'
	fi
}

sed_repl() {
	local s="$1"
	s="${s//\\/\\\\}"
	s="${s//&/\\&}"
	s="${s//|/\\|}"
	printf '%s' "$s"
}

# self_signed DIR NAME: DIR/fullchain.pem and DIR/privkey.pem (EC P-256).
self_signed() {
	mkdir -p "$1"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
		-keyout "$1/privkey.pem" -out "$1/fullchain.pem" -subj "/CN=$2" \
		-addext "subjectAltName=DNS:$2,IP:127.0.0.1" >/dev/null 2>&1
}

# self_signed_rsa DIR NAME: DIR/rsa.pem and DIR/rsa.key (RSA 2048), so a site
# can hold both kinds of certificate and its ECDHE-RSA ciphers are tried too.
self_signed_rsa() {
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 \
		-keyout "$1/rsa.key" -out "$1/rsa.pem" -subj "/CN=$2" \
		-addext "subjectAltName=DNS:$2,IP:127.0.0.1" >/dev/null 2>&1
}

# wrapper DIR SITE: DIR/nginx.conf, the http {} Debian's nginx.conf gives a site.
wrapper() {
	cat >"$1/nginx.conf" <<EOF
load_module /usr/lib/nginx/modules/ngx_nchan_module.so;
pid $1/nginx.pid;
error_log $1/logs/error.log;
events {
    worker_connections 64;
}
http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log $1/logs/access.log;
    client_body_temp_path $1/tmp/body;
    proxy_temp_path       $1/tmp/proxy;
    fastcgi_temp_path     $1/tmp/fastcgi;
    uwsgi_temp_path       $1/tmp/uwsgi;
    scgi_temp_path        $1/tmp/scgi;
    include $2;
}
EOF
}

# start DIR: run nginx on DIR/nginx.conf (daemon); wait until its pid file is there.
start() {
	local d="$1" ngx i
	ngx="$(nginx_bin)"
	if ! "$ngx" -p "$d" -c "$d/nginx.conf" -e "$d/logs/error.log" 2>"$d/start.err"; then
		cat "$d/start.err"
		tail -n 5 "$d/logs/error.log" 2>/dev/null || true
		return 1
	fi
	for ((i = 0; i < 50; i++)); do
		[[ -s "$d/nginx.pid" ]] && return 0
		sleep 0.1
	done
	echo "nginx in $d wrote no pid file"
	return 1
}

render_prod() {
	local d="$TMP/prod"
	mkdir -p "$d/logs" "$d/tmp"
	if ! self_signed "$d/tls" "$HOST" || ! self_signed_rsa "$d/tls" "$HOST"; then
		echo "openssl could not make a certificate"
		return 1
	fi
	# the site's own (EC) certificate, plus an RSA one beside it
	sed -e "s|/etc/letsencrypt/live/gym\.example\.com/|$(sed_repl "$d/tls")/|g" \
		-e "/ssl_certificate_key /a\\    ssl_certificate $(sed_repl "$d/tls/rsa.pem");\\n    ssl_certificate_key $(sed_repl "$d/tls/rsa.key");" \
		-e "s|/var/log/nginx/|$(sed_repl "$d/logs")/|g" \
		-e '/listen \[::\]:/d' \
		-e "s/listen 80;/listen 127.0.0.1:$P_PROD_HTTP;/" \
		-e "s/listen 443 /listen 127.0.0.1:$P_PROD /" \
		-e "s/127\.0\.0\.1:9101/127.0.0.1:$P_PROD_PUSH/g" \
		"$ROOT/nginx/gym.conf" >"$d/gym.conf"
	if ! grep -q "listen 127.0.0.1:$P_PROD " "$d/gym.conf"; then
		echo "nginx/gym.conf: no 'listen 443 ...' line to point at the test port"
		return 1
	fi
	cp "$ROOT/nginx/fastcgi_gym_params" "$d/fastcgi_gym_params"
	wrapper "$d" "$d/gym.conf"
	start "$d"
}

render_dev() {
	local d="$TMP/dev" user_line
	mkdir -p "$d/logs" "$d/tmp"
	# RSA, like the certificate test/env/tls.sh makes for the stack
	mkdir -p "$d/tls"
	self_signed_rsa "$d/tls" 127.0.0.1 || { echo "openssl could not make a certificate"; return 1; }
	user_line="# workers run as $(id -un)"
	if [[ "$(id -u)" -eq 0 ]]; then
		user_line="user nobody nogroup;"
	fi
	sed -e "s|@PREFIX@|$(sed_repl "$d")|g" \
		-e "s|@USER_LINE@|$(sed_repl "$user_line")|g" \
		-e "s|@API_PORT@|$P_DEV|g" \
		-e "s|@SIM_TLS_PORT@|$P_DEV_SIM|g" \
		-e "s|@SIM_PORT@|9|g" \
		-e "s|@FCGI@|127.0.0.1:9|g" \
		-e "s|@FCGI_KEEP_CONN@|off|g" \
		-e "s|@PUSH_PORT@|$P_DEV_PUSH|g" \
		-e "s|@CERT@|$(sed_repl "$d/tls/rsa.pem")|g" \
		-e "s|@KEY@|$(sed_repl "$d/tls/rsa.key")|g" \
		-e "s|@ROOT@|$(sed_repl "$ROOT")|g" \
		"$ROOT/nginx/gym-dev.conf.in" >"$d/nginx.conf"
	if grep -n '@[A-Z_]*@' "$d/nginx.conf"; then
		echo "a placeholder this check does not render (above)"
		return 1
	fi
	start "$d"
}

render_control() {
	local d="$TMP/control"
	mkdir -p "$d/logs" "$d/tmp"
	self_signed "$d/tls" "$HOST" || { echo "openssl could not make a certificate"; return 1; }
	cat >"$d/site.conf" <<EOF
server {
    listen 127.0.0.1:$P_CONTROL ssl;
    ssl_certificate     $d/tls/fullchain.pem;
    ssl_certificate_key $d/tls/privkey.pem;
    ssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3;
    ssl_ciphers ALL:COMPLEMENTOFALL:@SECLEVEL=0;
    location / { return 200 "weak\n"; }
}
EOF
	wrapper "$d" "$d/site.conf"
	start "$d"
}

# handshake PORT S_CLIENT_ARGS...: 0 when a handshake completes; the
# transcript is left in HS_OUT.
HS_OUT=""
handshake() {
	local port="$1"
	shift
	HS_OUT="$(timeout 10 openssl s_client -connect "127.0.0.1:$port" -servername "$HOST" "$@" \
		</dev/null 2>&1 || true)"
	grep -qE '^(New|Reused), TLSv[0-9.]+, Cipher is [A-Za-z0-9_-]+$' <<<"$HS_OUT"
}

# protocol PORT: which of TLS 1.0 .. 1.3 complete a handshake ("1.0 1.2 ...").
protocols() {
	local port="$1" v flag out=""
	for v in 1.0 1.1 1.2 1.3; do
		case "$v" in
		1.0) flag=-tls1 ;;
		1.1) flag=-tls1_1 ;;
		1.2) flag=-tls1_2 ;;
		1.3) flag=-tls1_3 ;;
		esac
		if [[ "$v" == 1.3 ]]; then
			handshake "$port" "$flag" && out+="$v "
		else
			# SECLEVEL=0: let the client offer what old servers speak
			handshake "$port" "$flag" -cipher 'ALL:COMPLEMENTOFALL:@SECLEVEL=0' && out+="$v "
		fi
	done
	printf '%s' "${out% }"
}

# accepted PORT: every TLS 1.2 cipher the local openssl knows (PSK and SRP
# need a shared secret, so not those) that the server accepts, one per line.
# One handshake per cipher, eight at a time (cipher names are [A-Z0-9-]).
accepted() {
	local port="$1"
	openssl ciphers -v 'ALL:COMPLEMENTOFALL:@SECLEVEL=0' |
		awk '$2 != "TLSv1.3" && $3 !~ /PSK|SRP/ && $4 !~ /PSK|SRP/ { print $1 }' |
		xargs -P 8 -I{} sh -c "timeout 10 openssl s_client -connect 127.0.0.1:$port \
			-servername $HOST -tls1_2 -cipher '{}:@SECLEVEL=0' </dev/null 2>&1 |
			grep -qE '^New, TLSv1\.2, Cipher is {}\$' && echo {}" | sort
}

# strong CIPHER: ECDHE key exchange, RSA or ECDSA authentication, AEAD.
strong() {
	openssl ciphers -v 'ALL:COMPLEMENTOFALL:@SECLEVEL=0' | awk -v c="$1" '$1 == c' |
		grep -qE '^[^ ]+ +TLSv1\.2 +Kx=ECDH +Au=(RSA|ECDSA) +Enc=(AESGCM|CHACHA20/POLY1305)\('
}

weak_offered() {
	if ! openssl ciphers "$WEAK" >/dev/null 2>&1; then
		echo "the local openssl knows none of $WEAK"
		return 77
	fi
}

# ---- checks ------------------------------------------------------------------------------

check_control() {
	local got
	got="$(protocols "$P_CONTROL")"
	printf 'control site speaks TLS %s\n' "$got"
	[[ "$got" == "1.0 1.1 1.2 1.3" ]] || { echo "the probes did not see TLS 1.0/1.1 on a site that offers them"; return 1; }
	weak_offered || return $?
	if ! handshake "$P_CONTROL" -tls1_2 -cipher "$WEAK"; then
		echo "the weak-cipher probe did not get through to a site that accepts every cipher"
		return 1
	fi
	printf 'weak cipher seen: %s\n' "$(sed -n 's/^New, TLSv[0-9.]*, Cipher is //p' <<<"$HS_OUT")"
}

check_protocols() {
	local port="$1" got
	got="$(protocols "$port")"
	printf 'speaks TLS %s\n' "$got"
	[[ "$got" == "1.2 1.3" ]]
}

check_weak() {
	local port="$1"
	weak_offered || return $?
	if handshake "$port" -tls1_2 -cipher "$WEAK"; then
		printf 'accepted a weak cipher: %s\n' "$(sed -n 's/^New, TLSv[0-9.]*, Cipher is //p' <<<"$HS_OUT")"
		return 1
	fi
	echo "refused every one of $WEAK"
}

check_cipher_list() {
	local port="$1" strict="$2" c bad=0 n=0
	while read -r c; do
		[[ -n "$c" ]] || continue
		n=$((n + 1))
		if strong "$c"; then
			printf 'ok    %s\n' "$c"
		elif ((strict)); then
			printf 'WEAK  %s\n' "$c"
			bad=1
		else
			printf 'note  %s (CBC or no forward secrecy)\n' "$c"
		fi
	done < <(accepted "$port")
	((n > 0)) || { echo "no TLS 1.2 cipher accepted at all"; return 1; }
	return "$bad"
}

check_prod_session() {
	local bad=0
	handshake "$P_PROD" -tls1_2 || { echo "no TLS 1.2 handshake"; return 1; }
	grep -q 'Secure Renegotiation IS supported' <<<"$HS_OUT" || { echo "no secure renegotiation"; bad=1; }
	grep -q 'Compression: NONE' <<<"$HS_OUT" || { echo "TLS compression on (CRIME)"; bad=1; }
	if grep -q 'TLS session ticket lifetime hint' <<<"$HS_OUT"; then
		echo "session tickets issued (ssl_session_tickets should be off)"
		bad=1
	fi
	((bad == 0)) && echo "secure renegotiation, no compression, no session tickets"
	return "$bad"
}

check_prod_headers() {
	local h bad=0 age
	have curl || { echo "curl not found"; return 77; }
	h="$(curl -sk --max-time 10 -o /dev/null -D - --resolve "$HOST:$P_PROD:127.0.0.1" \
		"https://$HOST:$P_PROD/no-such-page" | tr -d '\r')"
	age="$(sed -n 's/^[Ss]trict-[Tt]ransport-[Ss]ecurity: *max-age=\([0-9]*\).*/\1/p' <<<"$h")"
	if [[ -z "$age" || "$age" -lt 31536000 ]]; then
		echo "Strict-Transport-Security missing or under a year: '${age}'"
		bad=1
	fi
	grep -qi '^X-Content-Type-Options: nosniff' <<<"$h" || { echo "no X-Content-Type-Options: nosniff"; bad=1; }
	if grep -qiE '^Server: .*[0-9]' <<<"$h"; then
		echo "the Server header gives a version: $(grep -i '^Server:' <<<"$h")"
		bad=1
	fi
	((bad == 0)) && printf 'HSTS max-age=%s, nosniff, %s\n' "$age" "$(grep -i '^Server:' <<<"$h" || echo 'no Server header')"
	return "$bad"
}

check_prod_redirect() {
	local h
	have curl || { echo "curl not found"; return 77; }
	h="$(curl -s --max-time 10 -o /dev/null -D - -H "Host: $HOST" \
		"http://127.0.0.1:$P_PROD_HTTP/api/v1/course-schedules" | tr -d '\r')"
	if ! grep -q '^HTTP/1.1 301' <<<"$h" ||
		! grep -qi "^Location: https://$HOST/api/v1/course-schedules$" <<<"$h"; then
		printf 'plain http does not redirect to https:\n%s\n' "$h"
		return 1
	fi
	echo "301 to https://$HOST/api/v1/course-schedules"
}

# started NAME: the site of NAME is running (its start is a check of its own).
started() {
	[[ -s "$TMP/$1/nginx.pid" ]] || { echo "the $1 site did not start"; return 1; }
}

prod() {
	started prod || return 1
	"$@"
}

dev() {
	started dev || return 1
	"$@"
}

main() {
	if [[ -z "$(nginx_bin)" ]] || ! have openssl; then
		echo "SKIP  tls: nginx or openssl not found"
		exit 0
	fi
	TMP="$(mktemp -d "${TMPDIR:-/tmp}/gym-tls.XXXXXX")"
	chmod 755 "$TMP"
	trap cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM

	run_check "control: a weak site starts" render_control
	run_check "control: the probes see TLS 1.0/1.1 and a weak cipher there" check_control
	run_check "prod: nginx/gym.conf starts (port $P_PROD)" render_prod
	run_check "prod: TLS 1.2 and 1.3 only" prod check_protocols "$P_PROD"
	run_check "prod: no NULL, anonymous, export, RC4, DES or MD5 cipher" prod check_weak "$P_PROD"
	run_check "prod: every TLS 1.2 cipher accepted is ECDHE + AEAD" prod check_cipher_list "$P_PROD" 1
	run_check "prod: secure renegotiation, no compression, no tickets" prod check_prod_session
	run_check "prod: HSTS, nosniff, no version in Server" prod check_prod_headers
	run_check "prod: :80 redirects to https" prod check_prod_redirect
	run_check "dev: nginx/gym-dev.conf.in starts (port $P_DEV)" render_dev
	run_check "dev: TLS 1.2 and 1.3 only" dev check_protocols "$P_DEV"
	run_check "dev: no NULL, anonymous, export, RC4, DES or MD5 cipher" dev check_weak "$P_DEV"
	run_check "dev: TLS 1.2 ciphers accepted (listed)" dev check_cipher_list "$P_DEV" 0

	printf '\ntls: %d passed, %d failed, %d skipped\n' "$PASSED" "$FAILED" "$SKIPPED"
	((FAILED == 0))
}

main "$@"
