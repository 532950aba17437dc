#!/usr/bin/env bash
# Prints the benchmark table: what `make bench` calls (after `make build`).
#
#   bash bench/run.sh [benchtable flags]   e.g. -count 9 -runs 5 -records 400000
#   bash bench/run.sh -pipelines=false -collector=false   # the receiver cases alone
#
# o365_detect vs the strings.Index floor, encoding/json and the OTTL peer
# (transform + filter v0.158.0), in process, then the whole collector
# (bin/otelcol-o365, or $O365DETECT_BIN) with and without o365_detect, then
# the o365_management_activity receiver next to filelog (v0.158.0), in
# process, polling the API emulator (bench/cmd/apiemulator), which runs in a
# process of its own. The table goes to stdout, progress to stderr. Takes
# about 8 minutes on 2 cores.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
bin="${O365DETECT_BIN:-$root/bin/otelcol-o365}"
if [[ ! -x "$bin" ]]; then
  echo "run.sh: collector binary $bin not found; run 'make build' first" >&2
  exit 1
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

cd "$here"
# bench/ is its own module (replace => ../), so the transform and filter
# processors never enter the root module. -mod=mod: when the root module gains
# a dependency, go records it in bench/go.mod and go.sum (verified against the
# checksum database as usual) instead of failing with "missing go.sum entry".
# GOFLAGS in the environment replaces the go env value, so keep that value.
GOFLAGS="$(go env GOFLAGS) -mod=mod" go build -o "$tmp/" ./cmd/benchtable ./cmd/apiemulator
# The receiver comparison runs in a process of its own: the in-process cases
# before it leave a heap behind whose GC work would weigh on whichever side
# allocates more, which is not what the comparison is about. Its table
# follows the first one.
"$tmp/benchtable" -root "$root" -bin "$bin" -apiemulator "$tmp/apiemulator" -receiver=false "$@"
echo
"$tmp/benchtable" -root "$root" -bin "$bin" -apiemulator "$tmp/apiemulator" -pipelines=false -collector=false "$@"
