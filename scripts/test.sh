#!/usr/bin/env bash
# Runs every test: type check, unit, host and end-to-end suites (vitest), then prints one summary line
# "N passed, N failed, N skipped". Needs root for the host and e2e suites.
set -uo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules ] || bash scripts/setup.sh
npm run --silent build || exit 1
echo "test: type check"
npx tsc --noEmit -p tsconfig.json || exit 1
report=$(mktemp)
trap 'rm -f "$report"' EXIT
npx vitest run --reporter=default --reporter=json --outputFile.json="$report"
code=$?
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const skipped = r.numPendingTests + r.numTodoTests;
  console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed, ${skipped} skipped`);
  if (r.numTotalTests === 0) { console.error("test: no test ran"); process.exit(1); }
' "$report" || code=1
exit $code
