#!/usr/bin/env bash
# The main job on embedded defaults: a Temporal dev server with its Web UI, a 3-node KRaft lab cluster whose
# hosts are reached over SSH, and the worker; then a cluster-health run through the CLI.
# Ctrl-C stops everything it started. `--once` stops right after the health run (for scripted checks).
set -euo pipefail
cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.."
once=false
[ "${1:-}" = "--once" ] && once=true

bash scripts/setup.sh
lab() { npx tsx src/lab/cli.ts "$@"; }
worker_pid=""
cleanup() {
  trap - EXIT INT TERM
  echo "demo: stopping the worker, the lab cluster and Temporal"
  [ -n "$worker_pid" ] && kill "$worker_pid" 2>/dev/null && wait "$worker_pid" 2>/dev/null || true
  lab down --name lab || true
}
trap cleanup EXIT INT TERM

lab down --name lab >/dev/null 2>&1 || true
lab up --name lab --mode kraft --brokers 3 --temporal
# A topic to look at, created the way operators do: Kafka's own tool, over SSH on a broker host.
lab exec --name lab kafka-1 "$PWD/.lab/lab/hosts/kafka-1/opt/kafka/current/bin/kafka-topics.sh" \
  --bootstrap-server 127.0.1.1:9092 --create --if-not-exists --topic demo-orders \
  --partitions 6 --replication-factor 3 --config min.insync.replicas=2

export TEMPORAL_ADDRESS=127.0.0.1:7233 KAFKA_RUNBOOKS_INVENTORY="$PWD/.lab/inventory/lab.yaml"
node --require tsx/cjs src/worker.ts >.lab/worker.log 2>&1 &
worker_pid=$!
for _ in $(seq 1 120); do
  grep -q 'worker started' .lab/worker.log && break
  kill -0 "$worker_pid" 2>/dev/null || { cat .lab/worker.log; exit 1; }
  sleep 1
done
grep -q 'worker started' .lab/worker.log || { echo "demo: the worker did not start"; cat .lab/worker.log; exit 1; }

bin/kafka-runbooks start cluster-health --cluster lab --wait

cat <<MSG

The stack is up:
  Temporal Web UI   http://localhost:8233  (runs are listed there; open one for its live details)
  Start from the UI http://localhost:8233/namespaces/default/workflows/start-workflow?taskQueue=kafka-runbooks&workflowType=clusterHealth
                    input: {"cluster": "lab"}   (see runbooks/cluster-health.md)
  CLI               TEMPORAL_ADDRESS=127.0.0.1:7233 bin/kafka-runbooks start cluster-health --cluster lab --wait
                    bin/kafka-runbooks list --all
  Lab               npm run lab -- status ; npm run lab -- exec kafka-2 'cat /proc/loadavg'
  Worker log        .lab/worker.log
MSG
if $once; then exit 0; fi
echo "Press Ctrl-C to stop everything."
wait "$worker_pid"
