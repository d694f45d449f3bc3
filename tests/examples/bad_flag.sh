#!/usr/bin/env bash
# A bad command line makes an example exit with status 2 and a message naming the problem on
# stderr, before any work (examples/CommandLine.h):
#   tests/examples/bad_flag.sh PROGRAM 'EXPECTED MESSAGE' ARGS...
# passes when PROGRAM ARGS... exits with 2, writes nothing to stdout, and its stderr's first line
# is `<program name>: EXPECTED MESSAGE`.
set -uo pipefail
bin=$1 expected=$2
shift 2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$bin" "$@" > "$work/out.txt" 2> "$work/err.txt"
rc=$?
first=$(head -n 1 "$work/err.txt")
want="$(basename "$bin"): $expected"
[ "$rc" -eq 2 ] || { echo "exit status $rc, not 2; stderr: $first" >&2; exit 1; }
[ ! -s "$work/out.txt" ] || { echo "unexpected stdout: $(head -n 1 "$work/out.txt")" >&2; exit 1; }
[ "$first" = "$want" ] || { echo "stderr says '$first', not '$want'" >&2; exit 1; }
