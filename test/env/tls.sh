#!/usr/bin/env bash
# tls.sh PROFILE: a self-signed certificate for 127.0.0.1 in var/PROFILE/tls/.
#
#   cert.pem  CN=127.0.0.1, subjectAltName IP:127.0.0.1, DNS:localhost, CA:TRUE
#   key.pem   RSA 2048, mode 600
#
# One certificate serves nginx's TLS for the API and for the simulator front,
# and is the CA file that gymd (wx.cainfo) and wxsim (--notify-cainfo) trust.
# Idempotent: an existing pair is kept unless it no longer verifies (expired,
# or key and certificate do not match).
set -euo pipefail

PROG=tls.sh
# shellcheck source=test/env/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# pair_ok DIR: DIR holds a matching, unexpired cert/key pair.
pair_ok() {
	local dir="$1" cert_pub key_pub
	[[ -s "$dir/cert.pem" && -s "$dir/key.pem" ]] || return 1
	openssl x509 -in "$dir/cert.pem" -noout -checkend 86400 >/dev/null 2>&1 || return 1
	cert_pub="$(openssl x509 -in "$dir/cert.pem" -noout -pubkey 2>/dev/null)" || return 1
	key_pub="$(openssl pkey -in "$dir/key.pem" -pubout 2>/dev/null)" || return 1
	[[ "$cert_pub" == "$key_pub" ]]
}

make_pair() {
	local dir="$1" tmp
	tmp="$(mktemp -d "$dir/.new.XXXXXX")"
	(
		umask 077
		openssl req -x509 -newkey rsa:2048 -nodes -days 825 -sha256 \
			-keyout "$tmp/key.pem" -out "$tmp/cert.pem" \
			-subj "/O=gym dev/CN=127.0.0.1" \
			-addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
			-addext "basicConstraints=critical,CA:TRUE" \
			-addext "keyUsage=critical,digitalSignature,keyEncipherment,keyCertSign" \
			-addext "extendedKeyUsage=serverAuth" 2>"$tmp/openssl.err"
	) || {
		cat "$tmp/openssl.err" >&2
		rm -rf "$tmp"
		die "openssl could not create the certificate"
	}
	chmod 600 "$tmp/key.pem"
	chmod 644 "$tmp/cert.pem"
	mv -f "$tmp/key.pem" "$dir/key.pem"
	mv -f "$tmp/cert.pem" "$dir/cert.pem"
	rm -rf "$tmp"
}

main() {
	(($# == 1)) || { printf 'usage: %s dev|test\n' "$PROG" >&2; exit 2; }
	load_profile "$1"
	local dir="$VAR/tls"
	mkdir -p "$dir"
	chmod 755 "$dir"
	if pair_ok "$dir"; then
		chmod 600 "$dir/key.pem"
		log "$PROFILE: certificate present ($dir/cert.pem)"
		return 0
	fi
	make_pair "$dir"
	log "$PROFILE: created $dir/cert.pem (CN=127.0.0.1, 825 days)"
}

main "$@"
