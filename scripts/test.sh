#!/usr/bin/env bash
# The whole suite on a fresh machine of this kind: installs what is missing (scripts/setup.sh), then
# typecheck, lint, and the three tiers: unit, workflow (real Temporal dev server, fake activities) and
# end to end (lab clusters: real brokers over SSH, the real worker process and CLI).
# Extra arguments go to jest, e.g. `npm test -- --selectProjects unit`.
set -euo pipefail
cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.."
bash scripts/setup.sh
echo "test: typecheck"; npx tsc --noEmit -p .
echo "test: lint"; npx eslint .
mkdir -p .lab
results=.lab/jest-results.json
rm -f "$results"
status=0
# One test file at a time: end-to-end files start JVMs, and this machine has 2 cores.
npx jest --runInBand --json --outputFile "$results" "$@" || status=$?
if [ -f "$results" ]; then
  node -e 'const r = require(process.argv[1]); console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests} skipped`)' "$(readlink -f "$results")"
fi
exit "$status"
