#!/usr/bin/env bash
# Install the Debian packages that the build, the tests and `make run` need.
# Packages already installed are skipped; `apt-get update` runs once, and only
# when something is missing.  Without root, print the command to run and exit 1.
set -euo pipefail

PROG=deps.sh

PACKAGES=(
	build-essential pkg-config
	libfcgi-dev libfcgi-bin
	libpq-dev postgresql postgresql-contrib
	libcurl4-openssl-dev libssl-dev libcjson-dev libqrencode-dev
	check
	nginx openssl curl ca-certificates
	wrk
)

log() {
	printf '%s: %s\n' "$PROG" "$*" >&2
}

# installed PKG: dpkg says the package is fully installed.
installed() {
	local status
	status="$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)"
	[[ "$status" == "install ok installed" ]]
}

# missing_packages: print the packages not yet installed, one per line.
missing_packages() {
	local pkg
	for pkg in "${PACKAGES[@]}"; do
		installed "$pkg" || printf '%s\n' "$pkg"
	done
}

install_packages() {
	log "installing: $*"
	apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@"
}

main() {
	command -v dpkg-query >/dev/null 2>&1 ||
		{ log "dpkg-query not found: this script supports Debian/Ubuntu only"; exit 1; }

	local -a missing
	mapfile -t missing < <(missing_packages)
	if ((${#missing[@]} == 0)); then
		log "all ${#PACKAGES[@]} packages present"
		return 0
	fi

	if [[ "$(id -u)" -ne 0 ]]; then
		log "missing packages: ${missing[*]}"
		log "run as root:"
		printf '  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends %s\n' \
			"${missing[*]}" >&2
		exit 1
	fi

	install_packages "${missing[@]}"

	mapfile -t missing < <(missing_packages)
	if ((${#missing[@]} > 0)); then
		log "still missing after apt-get install: ${missing[*]}"
		exit 1
	fi
	log "installed; all ${#PACKAGES[@]} packages present"
}

main "$@"
