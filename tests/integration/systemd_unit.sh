#!/bin/sh
# The example unit file (examples/systemd/genesisd.service) checked by systemd itself:
# `systemd-analyze verify` (directives, types, the ExecStart binary) and
# `systemd-analyze security --offline` with a threshold, so the sandbox cannot quietly lose
# its options (exposure at most 2.0 on systemd's 0-10 scale; it is 1.4 as shipped).
#   systemd_unit.sh UNIT GENESISD
set -eu
unit=$1 genesisd=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
sed "s#/usr/local/bin/genesisd#$genesisd#g" "$unit" > "$dir/genesisd.service"
systemd-analyze verify "$dir/genesisd.service"
systemd-analyze security --offline=true --threshold=20 --no-pager "$dir/genesisd.service" |
  tail -n 1
