#!/usr/bin/env bash
# test/env/demo_times.sh: when make run's demo classes start and end, one
# class a line, "STARTS ENDS" in RFC 3339 with the gym's offset: tomorrow
# 10:00-11:00, the day after 10:00-11:00 and in three days 15:00-16:00, on
# the gym's clock (Asia/Shanghai, GYM_TZ to change it), not the host's.
# test/env/stack.sh seed_dev reads it; test/ops/check_ops.sh checks it.
set -euo pipefail

tz="${GYM_TZ:-Asia/Shanghai}"
[[ -r "/usr/share/zoneinfo/$tz" ]] || {
	printf 'demo_times.sh: no time zone %s (apt-get install tzdata)\n' "$tz" >&2
	exit 1
}
# the gym's today, so a class is never "tomorrow" by UTC but today in the gym
today="$(TZ="$tz" date +%F)"
for spec in "1 10:00 11:00" "2 10:00 11:00" "3 15:00 16:00"; do
	read -r days from to <<<"$spec"
	day="$(date -u -d "$today 12:00 UTC +$days day" +%F)"
	printf '%s %s\n' "$(TZ="$tz" date -d "TZ=\"$tz\" $day $from" +%Y-%m-%dT%H:%M:%S%:z)" \
		"$(TZ="$tz" date -d "TZ=\"$tz\" $day $to" +%Y-%m-%dT%H:%M:%S%:z)"
done
