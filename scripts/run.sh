#!/usr/bin/env bash
# Sets everything up on a fresh machine and runs knode's main job: a multi-node cluster on this
# machine (`knode lab up`: a control plane and 2 workers, each in its own network namespace with its
# own containerd and knode agent). Extra arguments go to `knode lab up` (e.g. --nodes 3).
# Remove it with `node bin/knode.js lab down`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
node bin/knode.js lab up "$@"
echo
echo "kubectl works with: export KUBECONFIG=$(node bin/knode.js lab kubeconfig)"
