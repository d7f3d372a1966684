#!/usr/bin/env bash
# The `ferry` command as a user meets it: exit codes, output forms, and that no secret value
# is ever read or printed.
set -u
ferry=$1
fail=0
pass=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

expect() {  # expect NAME WANT_EXIT -- command…
  local name=$1 want=$2
  shift 3
  "$@" >"$tmp/out" 2>"$tmp/err"
  local got=$?
  if [ "$got" = "$want" ]; then
    pass=$((pass + 1))
  else
    fail=$((fail + 1))
    echo "FAIL $name: exit $got, want $want"
    sed 's/^/  | /' "$tmp/out" "$tmp/err" | head -20
  fi
}

contains() {  # contains NAME FILE TEXT
  if grep -qF -- "$3" "$2"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL $1: no '$3' in output"; fi
}

lacks() {  # lacks NAME FILE TEXT
  if grep -qF -- "$3" "$2"; then fail=$((fail + 1)); echo "FAIL $1: '$3' in output"; else pass=$((pass + 1)); fi
}

expect check-ok 0 -- "$ferry" check examples/cross_account_mysql.ferry
contains check-ok-summary "$tmp/err" "examples/cross_account_mysql.ferry: ok"
expect check-many 0 -- "$ferry" check examples/schema_only.ferry examples/postgres_to_postgres.ferry
expect check-errors 1 -- "$ferry" check tests/diagnostics/fail_E0401_literal_password.ferry
contains check-errors-code "$tmp/err" "error[E0401]"
lacks check-no-colour-when-piped "$tmp/err" $'\x1b['
expect check-warnings-only 0 -- "$ferry" check tests/diagnostics/W0513_conflicts_ignore.ferry
contains check-warning-summary "$tmp/err" "ok with 1 warning"
expect check-missing-file 2 -- "$ferry" check no/such/plan.ferry
contains check-missing-file-says "$tmp/err" "cannot read \`no/such/plan.ferry\`"
expect no-command 2 -- "$ferry"
expect unknown-command 2 -- "$ferry" frobnicate
expect bad-format 2 -- "$ferry" plan examples/schema_only.ferry --format yaml
expect version 0 -- "$ferry" --version

expect check-json 1 -- "$ferry" check --format json tests/diagnostics/fail_E0202_duplicate_endpoint.ferry
python3 - "$tmp/out" <<'PY' && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL check-json-shape"; }
import json, sys
d = json.load(open(sys.argv[1]))
assert d["format_version"] == 1
p = d["plans"][0]
assert p["errors"] >= 1 and p["diagnostics"][0]["code"] == "E0202", p
assert p["diagnostics"][0]["span"]["line"] >= 1
PY

expect plan-text 0 -- "$ferry" plan examples/cross_account_mysql.ferry
contains plan-text-dag "$tmp/out" "incremental"
expect plan-json 0 -- "$ferry" plan --format json examples/cross_account_mysql.ferry
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["format_version"]==1 and d["migrations"][0]["dag"]' "$tmp/out" \
  && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL plan-json-shape"; }
expect plan-dot 0 -- "$ferry" plan --format dot examples/cross_account_mysql.ferry
if command -v dot >/dev/null; then
  expect dot-renders 0 -- dot -Tsvg -o "$tmp/plan.svg" "$tmp/out"
else
  fail=$((fail + 1)); echo "FAIL dot-renders: graphviz is not installed (scripts/setup installs it)"
fi
expect plan-with-errors 1 -- "$ferry" plan tests/diagnostics/fail_E0508_retry_other_equal.ferry
contains plan-with-errors-says "$tmp/err" "no plan produced"

# Secrets: the plan refers to env vars; their values must never show up, even when set.
export SHOP_SRC_PASSWORD='s3cr3t-value-1' MIGRATING_AK_ID='ak-id-value-2' MIGRATING_AK_SECRET='ak-secret-value-3'
for form in text json dot; do
  "$ferry" plan --format $form examples/cross_account_mysql.ferry >"$tmp/out" 2>&1
  for v in s3cr3t-value-1 ak-id-value-2 ak-secret-value-3; do lacks "secret-$form-$v" "$tmp/out" "$v"; done
done

# fmt: rewrites in place, --check reports without changing, refuses broken files.
printf 'account a{id="1";}\n' >"$tmp/x.ferry"
expect fmt-check-dirty 1 -- "$ferry" fmt --check "$tmp/x.ferry"
contains fmt-check-unchanged "$tmp/x.ferry" 'account a{id="1";}'
expect fmt-write 0 -- "$ferry" fmt "$tmp/x.ferry"
expect fmt-check-clean 0 -- "$ferry" fmt --check "$tmp/x.ferry"
contains fmt-result "$tmp/x.ferry" '  id = "1"'
printf 'account a { id = }\n' >"$tmp/broken.ferry"
expect fmt-broken 1 -- "$ferry" fmt "$tmp/broken.ferry"
contains fmt-broken-unchanged "$tmp/broken.ferry" 'account a { id = }'
for e in $(find examples -name '*.ferry' | sort); do expect "fmt-example-$e" 0 -- "$ferry" fmt --check "$e"; done

echo "cli: $pass passed, $fail failed"
[ "$fail" = 0 ]
