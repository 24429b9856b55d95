#!/usr/bin/env bash
# The whole suite on a fresh machine of this kind: installs what is missing (scripts/setup.sh), then
# typecheck, lint, and the three tiers: unit, workflow (real Temporal dev server, fake activities) and
# end to end (lab clusters: real brokers over SSH, the real worker process and CLI).
# Extra arguments go to jest, e.g. `npm test -- --selectProjects unit`.
set -euo pipefail
cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.."
bash scripts/setup.sh
mkdir -p .lab
status=0

# tsc and ESLint each keep one core busy: side by side on this machine's two. Their output is printed in order.
echo "test: typecheck and lint"
npx tsc --noEmit -p . >.lab/typecheck.log 2>&1 &
typecheck=$!
lint_status=0
npx eslint . >.lab/lint.log 2>&1 || lint_status=$?
typecheck_status=0
wait "$typecheck" || typecheck_status=$?
echo "test: typecheck"; cat .lab/typecheck.log
echo "test: lint"; cat .lab/lint.log
[ "$typecheck_status" = 0 ] && [ "$lint_status" = 0 ] || exit 1

results=.lab/jest-results.json
rm -f "$results" .lab/jest-results-*.json
summary() {
  node -e '
    const files = process.argv.slice(1).filter((f) => require("fs").existsSync(f));
    if (files.length === 0) process.exit(0);
    const rs = files.map((f) => require(require("path").resolve(f)));
    const sum = (k) => rs.reduce((n, r) => n + r[k], 0);
    const merged = { ...rs[0], success: rs.every((r) => r.success) };
    for (const k of Object.keys(rs[0]).filter((k) => k.startsWith("num"))) merged[k] = sum(k);
    merged.testResults = rs.flatMap((r) => r.testResults);
    require("fs").writeFileSync(".lab/jest-results.json", JSON.stringify(merged));
    console.log(`${merged.numPassedTests} passed, ${merged.numFailedTests} failed, ${merged.numPendingTests} skipped`);
  ' "$@"
}

if [ $# -gt 0 ]; then
  # As asked: one jest run, one test file at a time.
  npx jest --runInBand --json --outputFile .lab/jest-results-all.json "$@" || status=$?
  summary .lab/jest-results-all.json
  exit "$status"
fi

# Two lanes. End-to-end files run one at a time (each starts JVMs; this machine has 2 cores), and leave part of
# the CPU idle while brokers stop, start and catch up. The unit and workflow tiers (no lab, no JVM) run beside
# them at the lowest CPU priority, so they take only what the lab leaves idle and do not slow it down.
echo "test: unit and workflow tiers (nice 19, output in .lab/jest-unit-workflow.log, printed at the end) beside the e2e tier"
nice -n 19 npx jest --runInBand --selectProjects unit workflow --json --outputFile .lab/jest-results-unit-workflow.json >.lab/jest-unit-workflow.log 2>&1 &
side=$!
# Interrupted (Ctrl-C, a CI cancel): the side lane stops too.
trap 'if [ -n "$side" ]; then kill -TERM "$side" 2>/dev/null || true; fi' EXIT
npx jest --runInBand --selectProjects e2e --json --outputFile .lab/jest-results-e2e.json || status=$?
side_status=0
wait "$side" || side_status=$?
side=
echo "test: unit and workflow tiers (exit $side_status)"; cat .lab/jest-unit-workflow.log
[ "$side_status" = 0 ] || status=$side_status
summary .lab/jest-results-unit-workflow.json .lab/jest-results-e2e.json
exit "$status"
