#!/usr/bin/env bash
# The whole service on this machine: PostgreSQL, wxsim (the WeChat Pay
# simulator), alisim (the Alipay simulator, its own TLS on SIM_TLS_PORT + 1),
# gymd and nginx in front of gymd and wxsim.
#
#   stack.sh start   PROFILE   bring everything up (idempotent; gymd and wxsim are restarted)
#   stack.sh stop    PROFILE   stop everything; safe when nothing runs
#   stack.sh status  PROFILE   exit 0 when every part runs, 3 otherwise
#   stack.sh prepare PROFILE   only PostgreSQL, TLS, secrets and gymd.conf (used by run_all.sh)
#
# Environment:
#   GYM_BIN             folder of gymd, gymctl and wxsim (default bin; the ASan run uses build-asan/bin)
#   GYM_VECTORS_DIR     the known-answer vectors and test keys (default test/vectors)
#   GYM_FCGI_KEEP_CONN  on|off, nginx fastcgi_keep_conn (default off; see nginx/gym-dev.conf.in)
#   GYM_PORT_OFFSET     added to every port of the profile (default 0; see common.sh)
#
# Layout under var/PROFILE/: gymd.conf, platform_pub.pem, secrets/ (700), simkeys/ (700),
# keys/ (dev only, 700: the development keys made on the first start, see dev_keys),
# tls/, run/*.pid, log/{gymd,wxsim,alisim}.log, nginx/ (prefix: nginx.conf, logs/, tmp/),
# pg/ or the folder named in pgdir.
set -euo pipefail

PROG=stack.sh
# shellcheck source=test/env/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
ENV_DIR="$ROOT/test/env"

usage() {
	printf 'usage: %s start|stop|status|prepare dev|test|bench\n' "$PROG" >&2
	exit 2
}

# set_paths: everything derived from the profile and the environment.
set_paths() {
	case "${GYM_BIN:=bin}" in
	/*) BIN_DIR="$GYM_BIN" ;;
	*) BIN_DIR="$ROOT/$GYM_BIN" ;;
	esac
	VECTORS="${GYM_VECTORS_DIR:-$ROOT/test/vectors}"
	CONF="$VAR/gymd.conf"
	SECRETS="$VAR/secrets"
	SIMKEYS="$VAR/simkeys"
	TLS="$VAR/tls"
	RUN="$VAR/run"
	LOGDIR="$VAR/log"
	NGX="$VAR/nginx"
	KEEP_CONN="${GYM_FCGI_KEEP_CONN:-off}"
	[[ "$KEEP_CONN" == on || "$KEEP_CONN" == off ]] || die "GYM_FCGI_KEEP_CONN must be on or off"
	if [[ "$PROFILE" == dev ]]; then
		RETRY_SCALE=1 JOB_INTERVAL_MS=1000 RECONCILE_AFTER_S=60
		NOTIFY_BACKOFF_MS=1000 IDEM_LEASE=60 RECONCILE_SCHEDULE="10 30 60 120 300"
	else
		# a short Idempotency-Key lease: check_process takes a key over
		# the job asks WeChat every 2 s about a pending order (suites wait on it)
		RETRY_SCALE=0.01 JOB_INTERVAL_MS=200 RECONCILE_AFTER_S=2 RECONCILE_SCHEDULE=2
		NOTIFY_BACKOFF_MS=50 IDEM_LEASE=3
	fi
	# seconds a FastCGI connection has to send its request (check_fcgi: short)
	READ_TIMEOUT=2
	[[ "$PROFILE" != dev ]] || READ_TIMEOUT=10
	# audit rows of refused notifications per source and minute: the e2e
	# suites send many from 127.0.0.1 and check each one's row
	REFUSALS_AUDITED=10
	[[ "$PROFILE" == dev ]] || REFUSALS_AUDITED=100000
	WORKERS=4 MAX_REQUESTS=10000 LOG_LEVEL=info
	if [[ "$PROFILE" == bench ]]; then
		# make bench (bench/run.sh): dev timings; workers never retire, so their
		# memory can be watched; GYM_BENCH_WORKERS / GYM_BENCH_LOG_LEVEL to compare
		RETRY_SCALE=1 JOB_INTERVAL_MS=1000 RECONCILE_AFTER_S=60 NOTIFY_BACKOFF_MS=1000 IDEM_LEASE=60
		RECONCILE_SCHEDULE="10 30 60 120 300"
		WORKERS="${GYM_BENCH_WORKERS:-4}" MAX_REQUESTS=0 LOG_LEVEL="${GYM_BENCH_LOG_LEVEL:-warn}"
		# UNIX sockets from nginx to gymd and from gymd to PostgreSQL, as in
		# production (docs/operations.md); GYM_BENCH_SOCKETS=tcp: ports, as make run
		if [[ "${GYM_BENCH_SOCKETS:-unix}" != tcp ]]; then
			FCGI="unix:$VAR/sock/gymd.sock"
			DB_CONNINFO="host=$(bash "$ENV_DIR/pg.sh" datadir bench) port=$PG_PORT dbname=gym user=gym"
		fi
	fi
}

nginx_cmd() {
	local ngx
	ngx="$(command -v nginx || true)"
	[[ -n "$ngx" ]] || ngx=/usr/sbin/nginx
	[[ -x "$ngx" ]] || die "nginx not found (run: bash test/env/deps.sh)"
	"$ngx" -p "$NGX" -c "$NGX/nginx.conf" -e "$NGX/logs/error.log" "$@"
}

# need_bin NAME: the program exists in GYM_BIN, else a clear fatal error.
need_bin() {
	[[ -x "$BIN_DIR/$1" ]] ||
		die "$BIN_DIR/$1 not found or not executable; build it first (make, or make sanitize for build-asan/bin)"
}

# ---- secrets and configuration ---------------------------------------------------------

# random_chars SET N: N random characters of the tr set SET (e.g. A-Za-z0-9).
random_chars() {
	local s=""
	while ((${#s} < $2)); do
		s+="$(openssl rand -base64 96 | tr -dc "$1")"
	done
	printf '%s' "${s:0:$2}"
}

random_alnum() {
	random_chars 'A-Za-z0-9' "$1"
}

# random_hex N: N random hex digits (N even).
random_hex() {
	printf '%s' "$(openssl rand -hex "$(($1 / 2))")"
}

# pii_keys: a fresh key file for the registration details (lib/pii.h): the
# search-hash key and one sealing key.
pii_keys() {
	printf '# registration details keys (lib/pii.h); the first key line seals\n'
	printf 'index %s\nk1 %s\n' "$(random_hex 64)" "$(random_hex 64)"
}

# secret_once FILE CMD...: write CMD's output to FILE (mode 600) unless FILE exists.
secret_once() {
	local file="$1"
	shift
	if [[ -s "$file" ]]; then
		chmod 600 "$file"
		return 0
	fi
	(umask 077 && "$@" >"$file.tmp")
	mv -f "$file.tmp" "$file"
	log "$PROFILE: created ${file#"$ROOT"/}"
}

# check_vectors: every test key we copy is in the vectors folder.
check_vectors() {
	local f
	for f in merchant_key.pem apiv3_key.txt platform_pub.pem merchant_cert.pem platform_key.pem platform_cert.pem; do
		[[ -r "$VECTORS/keys/$f" ]] ||
			die "test key $VECTORS/keys/$f not found (set GYM_VECTORS_DIR to a vectors folder like test/vectors)"
	done
}

# cert_serial_hex: a random certificate serial of 20 bytes, high bit clear,
# first byte nonzero (40 upper-case hex digits, as gym_cert_serial prints it).
cert_serial_hex() {
	printf '%02X%s' $((RANDOM % 112 + 16)) "$(openssl rand -hex 19 | tr a-f A-F)"
}

# new_key_cert DIR NAME CN: DIR/NAME_key.pem and DIR/NAME_cert.pem, RSA 2048, self-signed.
new_key_cert() {
	local dir="$1" name="$2" cn="$3"
	(
		umask 077
		openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -sha256 \
			-set_serial "0x$(cert_serial_hex)" -subj "/O=gym dev/CN=$cn" \
			-keyout "$dir/${name}_key.pem" -out "$dir/${name}_cert.pem" 2>"$dir/openssl.err"
	) || {
		cat "$dir/openssl.err" >&2
		die "openssl could not create the $name key and certificate"
	}
	rm -f "$dir/openssl.err"
}

# dev_keys_ok DIR: DIR holds a complete set of development keys.
dev_keys_ok() {
	local f
	for f in merchant_key.pem merchant_cert.pem platform_key.pem platform_cert.pem \
		platform_pub.pem apiv3_key.txt pub_key_id.txt; do
		[[ -s "$1/$f" ]] || return 1
	done
	[[ "$(wc -c <"$1/apiv3_key.txt")" -eq 32 ]]
}

# dev_keys DIR: fresh development keys for gymd and the simulator, made with
# openssl on the first start of the dev profile and kept for later starts: the
# merchant's key and certificate, WeChat's platform key, certificate and public
# key, a random 32-byte APIv3 key and a public key id.  Never the committed test
# keys, which anyone can read.  Folder 700, files 600.
dev_keys() {
	local dir="$1" tmp
	mkdir -p "$dir"
	chmod 700 "$dir"
	if dev_keys_ok "$dir"; then
		chmod 600 "$dir"/*
		return 0
	fi
	tmp="$(mktemp -d "$dir/.new.XXXXXX")"
	new_key_cert "$tmp" merchant "gym dev merchant 1900000001"
	new_key_cert "$tmp" platform "gym dev WeChat Pay platform"
	(umask 077 && openssl pkey -in "$tmp/platform_key.pem" -pubout -out "$tmp/platform_pub.pem") ||
		die "openssl could not write the platform public key"
	(umask 077 && random_alnum 32 >"$tmp/apiv3_key.txt")
	(umask 077 && printf 'PUB_KEY_ID_%s' "$(random_chars 0-9 34)" >"$tmp/pub_key_id.txt")
	chmod 600 "$tmp"/*
	mv -f "$tmp"/* "$dir/"
	rm -rf "$tmp"
	log "$PROFILE: created fresh development keys in ${dir#"$ROOT"/}/"
}

# dev_alipay_keys DIR: fresh Alipay keys for the dev profile, made once with
# openssl beside dev_keys' (which it leaves alone): the app's key pair
# (alipay_app_key.pem, alipay_app_pub.pem: gymd signs, alisim verifies) and
# the pair playing Alipay's (alipay_platform_key.pem, alipay_platform_pub.pem:
# alisim signs, gymd verifies).  Files 600.
dev_alipay_keys() {
	local dir="$1" who
	for who in app platform; do
		[[ -s "$dir/alipay_${who}_key.pem" && -s "$dir/alipay_${who}_pub.pem" ]] && continue
		(
			umask 077
			openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
				-out "$dir/alipay_${who}_key.pem" 2>/dev/null &&
				openssl pkey -in "$dir/alipay_${who}_key.pem" -pubout \
					-out "$dir/alipay_${who}_pub.pem"
		) || die "openssl could not create the Alipay $who key"
		log "$PROFILE: created a development Alipay $who key in ${dir#"$ROOT"/}/"
	done
	chmod 600 "$dir"/alipay_*.pem
}

# cert_serial FILE: the certificate's serial in upper-case hex.
cert_serial() {
	local s
	s="$(openssl x509 -in "$1" -noout -serial)" || die "cannot read the serial of $1"
	printf '%s' "${s#serial=}"
}

# prepare_secrets: the secrets gymd and wxsim read.  Profile dev: keys made on
# this machine (dev_keys); test and bench: the test keys of $VECTORS, with which
# the suites sign and check.  Sets MERCHANT_SERIAL, PLATFORM_SERIAL, PUB_KEY_ID.
prepare_secrets() {
	local f keys
	if [[ "$PROFILE" == dev ]]; then
		keys="$VAR/keys"
		dev_keys "$keys"
		dev_alipay_keys "$keys"
		PUB_KEY_ID="$(cat "$keys/pub_key_id.txt")"
	else
		keys="$VECTORS/keys"
		check_vectors
		PUB_KEY_ID=PUB_KEY_ID_0114232806132025011500329200000001
	fi
	MERCHANT_SERIAL="$(cert_serial "$keys/merchant_cert.pem")"
	PLATFORM_SERIAL="$(cert_serial "$keys/platform_cert.pem")"
	mkdir -p "$SECRETS" "$SIMKEYS"
	chmod 700 "$SECRETS" "$SIMKEYS"
	secret_once "$SECRETS/token_secret" random_alnum 48
	secret_once "$SECRETS/app_secret" random_hex 32
	secret_once "$SECRETS/pii.keys" pii_keys
	install -m 600 "$keys/merchant_key.pem" "$SECRETS/merchant_key.pem"
	install -m 600 "$keys/apiv3_key.txt" "$SECRETS/apiv3_key.txt"
	install -m 644 "$keys/platform_pub.pem" "$VAR/platform_pub.pem"
	for f in merchant_cert.pem platform_key.pem platform_cert.pem apiv3_key.txt; do
		install -m 600 "$keys/$f" "$SIMKEYS/$f"
	done
	# Alipay: the app key and Alipay's public key for gymd, the app's public
	# key and Alipay's key for alisim (the test vectors' keys; dev: its own)
	rm -f "$SECRETS/alipay_app_key.pem"
	if [[ -f "$keys/alipay_app_key.pem" ]]; then
		install -m 600 "$keys/alipay_app_key.pem" "$SECRETS/alipay_app_key.pem"
		install -m 644 "$keys/alipay_platform_pub.pem" "$VAR/alipay_public_key.pem"
		install -m 600 "$keys/alipay_app_pub.pem" "$SIMKEYS/alipay_app_pub.pem"
		install -m 600 "$keys/alipay_platform_key.pem" "$SIMKEYS/alipay_platform_key.pem"
	fi
}

# alipay_conf: the alipay.* keys when prepare_secrets installed Alipay's keys.
alipay_conf() {
	[[ -f "$SECRETS/alipay_app_key.pem" ]] || return 0
	cat <<EOF

alipay.app_id = 2021000000000001
alipay.seller_id = 2088000000000001
alipay.app_key_file = $SECRETS/alipay_app_key.pem
alipay.public_key_file = $VAR/alipay_public_key.pem
alipay.gateway_url = https://127.0.0.1:$((SIM_TLS_PORT + 1))/gateway.do
alipay.notify_url = https://127.0.0.1:$API_PORT/api/v1/payment/alipay/notify
alipay.cainfo = $TLS/cert.pem
EOF
}

write_conf() {
	cat >"$CONF.tmp" <<EOF
# gymd configuration for profile $PROFILE.
# Generated by test/env/stack.sh at every start: edits here are lost.
listen = $FCGI
workers = $WORKERS
max_requests = $MAX_REQUESTS
shutdown_timeout = 10
jobs = yes
job_interval_ms = $JOB_INTERVAL_MS
db = ${DB_CONNINFO:-$(conninfo gym)}
log_level = $LOG_LEVEL
token_secret_file = $SECRETS/token_secret
pii_keys_file = $SECRETS/pii.keys
trust_proxy = yes
idempotency_lease = $IDEM_LEASE
read_timeout = $READ_TIMEOUT
audit_refusals_per_minute = $REFUSALS_AUDITED
# a payment without a seat: the operators' needs-attention queue (operator)
# or an automatic refund (auto: the fault suite, GYM_LATE_PAYMENT_REFUND)
late_payment_refund = ${GYM_LATE_PAYMENT_REFUND:-operator}
# live push: Nchan's publisher in this profile's nginx$(
	[[ "$PROFILE" != test ]] || printf '%s' ", and a second web host's
# (check_push.c starts a second nginx on the ports 10 above this one's)")
push_url = http://127.0.0.1:$PUSH_PORT/pub/
$([[ "$PROFILE" != test ]] || echo "push_url = http://127.0.0.1:$((PUSH_PORT + 10))/pub/")

wx.appid = wxd678efh567hg6787
wx.mchid = 1900000001
wx.merchant_serial = $MERCHANT_SERIAL
wx.app_secret_file = $SECRETS/app_secret
wx.merchant_key_file = $SECRETS/merchant_key.pem
wx.platform_key = $PLATFORM_SERIAL $VAR/platform_pub.pem
wx.platform_key = $PUB_KEY_ID $VAR/platform_pub.pem
wx.apiv3_key_file = $SECRETS/apiv3_key.txt
wx.notify_url = https://127.0.0.1:$API_PORT/api/v1/payment/wxpay/callback
wx.refund_notify_url = https://127.0.0.1:$API_PORT/api/v1/payment/wxpay/refund-callback
wx.pay_base_url = https://127.0.0.1:$SIM_TLS_PORT
wx.api_base_url = https://127.0.0.1:$SIM_TLS_PORT
wx.cainfo = $TLS/cert.pem
wx.timeout_ms = 3000
wx.connect_timeout_ms = 1000
wx.reconcile_after_s = $RECONCILE_AFTER_S
wx.reconcile_schedule = $RECONCILE_SCHEDULE

# parents' messages (the simulator records them: GET /sim/messages)
wx.template_confirmed = tpl-booking-confirmed thing1 time2 amount3
wx.template_failed = tpl-payment-failed thing1 phrase2
wx.template_refunded = tpl-refund-done thing1 amount2 thing3
wx.template_waitlist = tpl-waitlist-offer thing1 time2 time3
wx.template_rescheduled = tpl-class-rescheduled thing1 time2
wx.template_class_cancelled = tpl-class-cancelled thing1 thing2
wx.template_purchased = tpl-purchased thing1 amount2 time3
wx.miniprogram_state = developer
notify_max_attempts = 8
notify_backoff_base_ms = $NOTIFY_BACKOFF_MS
EOF
	alipay_conf >>"$CONF.tmp"
	chmod 644 "$CONF.tmp"
	mv -f "$CONF.tmp" "$CONF"
}

# socket_dir DIR: a folder for gymd's UNIX socket that nginx's workers reach
# through their group and nobody else can (gymd then makes the socket 0666).
socket_dir() {
	mkdir -p "$1"
	chmod 750 "$1"
	if is_root && getent group www-data >/dev/null; then
		chgrp www-data "$1"
	fi
}

cmd_prepare() {
	mkdir -p "$VAR" "$RUN" "$LOGDIR"
	if [[ "$FCGI" == unix:* ]]; then
		socket_dir "$(dirname "${FCGI#unix:}")"
	fi
	bash "$ENV_DIR/pg.sh" start "$PROFILE"
	bash "$ENV_DIR/tls.sh" "$PROFILE"
	prepare_secrets
	write_conf
}

# ---- database ----------------------------------------------------------------------------

migrate() {
	need_bin gymctl
	log "$PROFILE: gymctl migrate"
	"$BIN_DIR/gymctl" -c "$CONF" migrate || die "gymctl migrate failed (config $CONF)"
}

# seed_dev: three demo classes when the dev database has no schedule yet, at
# the gym's local times (test/env/demo_times.sh: Asia/Shanghai).
seed_dev() {
	local listing times starts ends
	listing="$("$BIN_DIR/gymctl" -c "$CONF" schedule list)" || die "gymctl schedule list failed"
	[[ -z "${listing//[[:space:]]/}" ]] || return 0
	times="$(bash "$ENV_DIR/demo_times.sh")" || die "test/env/demo_times.sh failed"
	log "dev: adding 3 demo classes"
	while read -r starts ends; do
		"$BIN_DIR/gymctl" -c "$CONF" schedule add --course "少儿体操体验课" \
			--starts "$starts" --ends "$ends" --capacity 10 ||
			die "gymctl schedule add failed"
	done <<<"$times"
}

# ---- processes ---------------------------------------------------------------------------

# group_pids PGID NAME: live processes of process group PGID whose program is NAME.
group_pids() {
	local d stat rest pgrp
	for d in /proc/[0-9]*; do
		stat="$(cat "$d/stat" 2>/dev/null)" || continue
		rest="${stat##*) }"
		read -r _ _ pgrp _ <<<"$rest"
		[[ "$pgrp" == "$1" ]] || continue
		pid_is "${d#/proc/}" "$2" && printf '%s\n' "${d#/proc/}"
	done
	return 0
}

# spawn NAME PIDFILE LOG CMD...: run CMD as a session leader (pid = pgid) in the
# background, output appended to LOG, and record its pid in PIDFILE.
spawn() {
	local name="$1" pidfile="$2" logfile="$3"
	shift 3
	printf '=== %s %s starting: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$name" "$*" >>"$logfile"
	setsid nohup "$@" >>"$logfile" 2>&1 </dev/null &
	printf '%s\n' "$!" >"$pidfile"
}

# stop_proc NAME TIMEOUT PIDFILE...: SIGTERM the first live NAME pid found in the
# pidfiles, wait up to TIMEOUT seconds, then SIGKILL whatever is left of its group.
stop_proc() {
	local name="$1" timeout="$2" pidfile pid="" left
	shift 2
	for pidfile in "$@"; do
		pid="$(read_pidfile "$pidfile")"
		[[ -n "$pid" ]] && pid_is "$pid" "$name" && break
		pid=""
	done
	if [[ -z "$pid" ]]; then
		# the master may be gone with children left in its group
		for pidfile in "$@"; do
			pid="$(read_pidfile "$pidfile")"
			[[ -n "$pid" && -n "$(group_pids "$pid" "$name")" ]] && break
			pid=""
		done
	fi
	if [[ -z "$pid" ]]; then
		rm -f "$@"
		return 0
	fi
	if pid_alive "$pid"; then
		log "$PROFILE: stopping $name (pid $pid)"
		kill -TERM "$pid" 2>/dev/null || true
		wait_gone "$pid" "$timeout" || log "$PROFILE: $name did not stop in ${timeout}s; killing its process group"
	fi
	left="$(group_pids "$pid" "$name")"
	if [[ -n "$left" ]]; then
		log "$PROFILE: killing leftover $name processes: $(printf '%s' "$left" | tr '\n' ' ')"
		# shellcheck disable=SC2086 # one pid per word
		kill -KILL $left 2>/dev/null || true
		sleep 0.2
	fi
	[[ -z "$(group_pids "$pid" "$name")" ]] || die "$name (group $pid) survived SIGKILL"
	rm -f "$@"
}

start_wxsim() {
	need_bin wxsim
	stop_proc wxsim 5 "$RUN/wxsim.pid" "$RUN/wxsim.spawn.pid"
	spawn wxsim "$RUN/wxsim.spawn.pid" "$LOGDIR/wxsim.log" \
		"$BIN_DIR/wxsim" --listen "127.0.0.1:$SIM_PORT" --keys "$SIMKEYS" \
		--merchant-serial "$MERCHANT_SERIAL" --platform-serial "$PLATFORM_SERIAL" \
		--retry-scale "$RETRY_SCALE" --notify-cainfo "$TLS/cert.pem" \
		--secret-file "$SECRETS/app_secret" --pidfile "$RUN/wxsim.pid"
	local pid deadline=$((SECONDS + 10))
	pid="$(read_pidfile "$RUN/wxsim.spawn.pid")"
	while ((SECONDS < deadline)); do
		pid_alive "$pid" || { tail_log "$LOGDIR/wxsim.log"; die "wxsim exited at startup"; }
		curl -s -o /dev/null -m 1 "http://127.0.0.1:$SIM_PORT/" && return 0
		sleep 0.1
	done
	tail_log "$LOGDIR/wxsim.log"
	die "wxsim does not answer on 127.0.0.1:$SIM_PORT"
}

# start_alisim: the Alipay simulator on SIM_TLS_PORT + 1 (its own TLS, the
# stack's certificate) when prepare_secrets installed Alipay's keys; not in
# the bench profile (bench/run.sh has its trivial responder on that port,
# and its Alipay notifications need no gateway).
start_alisim() {
	local port=$((SIM_TLS_PORT + 1)) pid deadline=$((SECONDS + 30))
	stop_proc alisim 5 "$RUN/alisim.pid"
	[[ -f "$SIMKEYS/alipay_platform_key.pem" && "$PROFILE" != bench ]] || return 0
	need_bin alisim
	spawn alisim "$RUN/alisim.pid" "$LOGDIR/alisim.log" \
		"$BIN_DIR/alisim" --listen "127.0.0.1:$port" --tls-cert "$TLS/cert.pem" \
		--tls-key "$TLS/key.pem" --app-pub "$SIMKEYS/alipay_app_pub.pem" \
		--alipay-key "$SIMKEYS/alipay_platform_key.pem" --notify-cainfo "$TLS/cert.pem" \
		--retry-scale "$RETRY_SCALE"
	pid="$(read_pidfile "$RUN/alisim.pid")"
	while ((SECONDS < deadline)); do
		pid_alive "$pid" || { tail_log "$LOGDIR/alisim.log"; die "alisim exited at startup"; }
		curl -s -o /dev/null -m 1 --cacert "$TLS/cert.pem" "https://127.0.0.1:$port/healthz" &&
			return 0
		sleep 0.1
	done
	tail_log "$LOGDIR/alisim.log"
	die "alisim does not answer on https://127.0.0.1:$port"
}

start_gymd() {
	need_bin gymd
	stop_proc gymd 15 "$RUN/gymd.pid"
	spawn gymd "$RUN/gymd.pid" "$LOGDIR/gymd.log" "$BIN_DIR/gymd" -c "$CONF"
}

# ---- nginx -------------------------------------------------------------------------------

# sed_repl STR: STR escaped for the replacement side of s|...|...|.
sed_repl() {
	local s="$1"
	s="${s//\\/\\\\}"
	s="${s//&/\\&}"
	s="${s//|/\\|}"
	printf '%s' "$s"
}

nginx_user_line() {
	if is_root && id -u www-data >/dev/null 2>&1; then
		printf 'user www-data;'
	elif is_root; then
		printf 'user nobody nogroup;'
	else
		printf '# not started as root: workers run as %s' "$(id -un)"
	fi
}

render_nginx() {
	local tmpl="$ROOT/nginx/gym-dev.conf.in"
	[[ -r "$tmpl" ]] || die "$tmpl not found"
	mkdir -p "$NGX/logs" "$NGX/tmp"
	# nginx's master (root) writes the logs; nobody else needs to read them.
	# Each start begins a new access log: lines written before the log format
	# left out query strings carry the AppSecret and login codes.
	chmod 700 "$NGX/logs"
	: >"$NGX/logs/access.log"
	chmod 600 "$NGX/logs/access.log"
	sed -e "s|@PREFIX@|$(sed_repl "$NGX")|g" \
		-e "s|@USER_LINE@|$(sed_repl "$(nginx_user_line)")|g" \
		-e "s|@API_PORT@|$API_PORT|g" \
		-e "s|@SIM_TLS_PORT@|$SIM_TLS_PORT|g" \
		-e "s|@SIM_PORT@|$SIM_PORT|g" \
		-e "s|@FCGI@|$FCGI|g" \
		-e "s|@FCGI_KEEP_CONN@|$KEEP_CONN|g" \
		-e "s|@PUSH_PORT@|$PUSH_PORT|g" \
		-e "s|@CERT@|$(sed_repl "$TLS/cert.pem")|g" \
		-e "s|@KEY@|$(sed_repl "$TLS/key.pem")|g" \
		-e "s|@ROOT@|$(sed_repl "$ROOT")|g" \
		"$tmpl" >"$NGX/nginx.conf.tmp"
	if grep -q '@[A-Z_]*@' "$NGX/nginx.conf.tmp"; then
		die "unreplaced placeholder in $NGX/nginx.conf.tmp: $(grep -o '@[A-Z_]*@' "$NGX/nginx.conf.tmp" | head -n 1)"
	fi
	mv -f "$NGX/nginx.conf.tmp" "$NGX/nginx.conf"
}

# warn_static_access: tell when nginx workers cannot read the console/demo files.
warn_static_access() {
	local dir
	is_root && id -u www-data >/dev/null 2>&1 || return 0
	for dir in "$ROOT/console" "$ROOT/demo"; do
		[[ -d "$dir" ]] || continue
		runuser -u www-data -- test -r "$dir" -a -x "$dir" ||
			log "note: www-data cannot read $dir, so /${dir##*/}/ will answer 403 (repo in a private folder?)"
	done
}

nginx_pid() {
	local pid
	pid="$(read_pidfile "$NGX/nginx.pid")"
	[[ -n "$pid" ]] && pid_is "$pid" nginx && printf '%s' "$pid"
	return 0
}

start_nginx() {
	render_nginx
	nginx_cmd -t -q || die "nginx -t failed on $NGX/nginx.conf"
	warn_static_access
	if [[ -n "$(nginx_pid)" ]]; then
		log "$PROFILE: nginx running; reloading its configuration"
		nginx_cmd -s reload || die "nginx reload failed"
		return 0
	fi
	log "$PROFILE: starting nginx on 127.0.0.1:$API_PORT and 127.0.0.1:$SIM_TLS_PORT"
	nginx_cmd || {
		tail_log "$NGX/logs/error.log" 10
		die "nginx did not start (ports $API_PORT/$SIM_TLS_PORT taken?)"
	}
}

stop_nginx() {
	local pid left
	pid="$(nginx_pid)"
	if [[ -n "$pid" ]]; then
		log "$PROFILE: stopping nginx (pid $pid)"
		if [[ -f "$NGX/nginx.conf" ]]; then
			nginx_cmd -s quit 2>/dev/null || kill -QUIT "$pid" 2>/dev/null || true
		else
			kill -QUIT "$pid" 2>/dev/null || true
		fi
		if ! wait_gone "$pid" 10; then
			kill -TERM "$pid" 2>/dev/null || true
			wait_gone "$pid" 5 || true
		fi
	else
		pid="$(read_pidfile "$NGX/nginx.pid")"
		[[ -n "$pid" ]] || return 0
	fi
	# nginx's master is a session leader, so its workers share its process group
	left="$(group_pids "$pid" nginx)"
	if [[ -n "$left" ]]; then
		# shellcheck disable=SC2086 # one pid per word
		kill -KILL $left 2>/dev/null || true
		sleep 0.2
	fi
	rm -f "$NGX/nginx.pid"
}

# ---- start / stop / status ---------------------------------------------------------------

# wait_healthy: GET /healthz through nginx answers 200 within 30 s.
wait_healthy() {
	local url="https://127.0.0.1:$API_PORT/healthz" code="" gymd_pid deadline=$((SECONDS + 30))
	gymd_pid="$(read_pidfile "$RUN/gymd.pid")"
	while ((SECONDS < deadline)); do
		code="$(curl -s -o /dev/null -w '%{http_code}' -m 2 --cacert "$TLS/cert.pem" "$url" || true)"
		[[ "$code" == 200 ]] && return 0
		pid_alive "$gymd_pid" || { code="gymd exited"; break; }
		sleep 0.5
	done
	tail_log "$LOGDIR/gymd.log"
	tail_log "$LOGDIR/wxsim.log" 10
	tail_log "$NGX/logs/error.log" 10
	tail_log "$(bash "$ENV_DIR/pg.sh" datadir "$PROFILE")/server.log" 10
	die "$url did not answer 200 (last: ${code:-no answer}); run: bash test/env/stack.sh stop $PROFILE"
}

print_banner() {
	if [[ "$PROFILE" != dev ]]; then
		log "$PROFILE: up: https://127.0.0.1:$API_PORT (simulator http://127.0.0.1:$SIM_PORT)"
		return 0
	fi
	cat <<EOF

gym dev stack is up (binaries from ${BIN_DIR#"$ROOT"/}/)
  API         https://127.0.0.1:$API_PORT/api/v1/
  health      curl -k https://127.0.0.1:$API_PORT/healthz
  demo        https://127.0.0.1:$API_PORT/demo/  (book a class and pay it with the simulator)
  console     https://127.0.0.1:$API_PORT/console/  (token: ${BIN_DIR#"$ROOT"/}/gymctl operator add NAME --role operator)
  pay page    https://127.0.0.1:$SIM_TLS_PORT/sim/pay?out_trade_no=<order_id>
  Alipay      https://127.0.0.1:$((SIM_TLS_PORT + 1))/sim/pay?out_trade_no=<order_id>  (the Alipay simulator's cashier)
  database    bash test/env/pg.sh psql dev
  config      ${CONF#"$ROOT"/}
  logs        ${LOGDIR#"$ROOT"/}/gymd.log, ${LOGDIR#"$ROOT"/}/wxsim.log, ${LOGDIR#"$ROOT"/}/alisim.log, ${NGX#"$ROOT"/}/logs/
  stop        make stop
EOF
}

cmd_start() {
	cmd_prepare
	migrate
	if [[ "$PROFILE" == dev ]]; then
		seed_dev
	fi
	start_wxsim
	start_alisim
	start_gymd
	start_nginx
	wait_healthy
	print_banner
}

cmd_stop() {
	stop_nginx
	stop_proc gymd 15 "$RUN/gymd.pid"
	stop_proc wxsim 5 "$RUN/wxsim.pid" "$RUN/wxsim.spawn.pid"
	stop_proc alisim 5 "$RUN/alisim.pid"
	bash "$ENV_DIR/pg.sh" stop "$PROFILE"
}

# show NAME PID: one status line; false when not running.
show() {
	if [[ -n "$2" ]]; then
		printf '%-8s %s: running (pid %s)\n' "$1" "$PROFILE" "$2"
		return 0
	fi
	printf '%-8s %s: stopped\n' "$1" "$PROFILE"
	return 1
}

cmd_status() {
	local rc=0 pid
	pid="$(read_pidfile "$RUN/gymd.pid")"
	pid_is "${pid:-0}" gymd || pid=""
	show gymd "$pid" || rc=3
	pid="$(read_pidfile "$RUN/wxsim.pid")"
	pid_is "${pid:-0}" wxsim || pid="$(read_pidfile "$RUN/wxsim.spawn.pid")"
	pid_is "${pid:-0}" wxsim || pid=""
	show wxsim "$pid" || rc=3
	if [[ -f "$SIMKEYS/alipay_platform_key.pem" && "$PROFILE" != bench ]]; then
		pid="$(read_pidfile "$RUN/alisim.pid")"
		pid_is "${pid:-0}" alisim || pid=""
		show alisim "$pid" || rc=3
	fi
	show nginx "$(nginx_pid)" || rc=3
	bash "$ENV_DIR/pg.sh" status "$PROFILE" || rc=3
	return "$rc"
}

main() {
	(($# == 2)) || usage
	local cmd="$1"
	load_profile "$2"
	set_paths
	cd "$ROOT"
	case "$cmd" in
	start) cmd_start ;;
	stop) cmd_stop ;;
	status) cmd_status ;;
	prepare) cmd_prepare ;;
	*) usage ;;
	esac
}

main "$@"
