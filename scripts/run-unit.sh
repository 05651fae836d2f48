#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs each host unit-test binary given and prints one closing line: "unit: N passed, N failed".
set -u
pass=0
fail=0
failed=()
for t in "$@"; do
    if out=$("$t" 2>&1); then
        n=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -1)
        pass=$((pass + ${n:-0}))
        echo "unit: $(basename "$t"): ${n:-0} passed"
    else
        printf '%s\n' "$out"
        n=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | tail -1)
        fail=$((fail + ${n:-1}))
        failed+=("$(basename "$t")")
    fi
done
echo "unit: $pass passed, $fail failed"
[ "$fail" -eq 0 ] || { echo "unit: failing: ${failed[*]}" >&2; exit 1; }
