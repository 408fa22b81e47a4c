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
	libcurl4-openssl-dev libssl-dev libcjson-dev libqrencode-dev zlib1g-dev
	libargon2-dev
	check
	clang libclang-rt-dev
	nginx libnginx-mod-nchan openssl curl ca-certificates
	wrk
	systemd iproute2 postgresql-client
)

# Wanted, not required: the browser suite (test/browser) drives the console and the
# demo page in Debian's chromium with node; CJK glyphs come from WenQuanYi Micro Hei
# (5 MB; fonts-noto-cjk is 90 MB).  When these cannot be installed, the browser
# suite reports SKIP instead of the whole run failing.  The mini program suite
# (test/miniprogram) needs node and npm (its npm packages come from `npm ci`).
OPTIONAL_PACKAGES=(chromium nodejs npm fonts-wqy-microhei)

log() {
	printf '%s: %s\n' "$PROG" "$*" >&2
}

# installed PKG: dpkg says the package is fully installed.
installed() {
	local status
	status="$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)"
	[[ "$status" == "install ok installed" ]]
}

# missing_packages [PKG...]: print the packages (default: PACKAGES) not yet
# installed, one per line.
missing_packages() {
	local pkg
	(($# > 0)) || set -- "${PACKAGES[@]}"
	for pkg in "$@"; do
		installed "$pkg" || printf '%s\n' "$pkg"
	done
}

UPDATED=0
install_packages() {
	log "installing: $*"
	if ((!UPDATED)); then
		apt-get update
		UPDATED=1
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@"
}

# install_optional: try OPTIONAL_PACKAGES; never fails.
install_optional() {
	local -a missing
	mapfile -t missing < <(missing_packages "${OPTIONAL_PACKAGES[@]}")
	((${#missing[@]} > 0)) || return 0
	if [[ "$(id -u)" -ne 0 ]]; then
		log "optional packages missing (the browser suite will be skipped): ${missing[*]}"
		return 0
	fi
	install_packages "${missing[@]}" ||
		log "could not install ${missing[*]}: the browser suite will be skipped"
	return 0
}

main() {
	command -v dpkg-query >/dev/null 2>&1 ||
		{ log "dpkg-query not found: this script supports Debian/Ubuntu only"; exit 1; }

	local -a missing
	mapfile -t missing < <(missing_packages)
	if ((${#missing[@]} == 0)); then
		log "all ${#PACKAGES[@]} packages present"
		install_optional
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
	install_optional
}

main "$@"
