#!/usr/bin/env bash
# Sets everything up on a fresh machine and runs knode's main job: for now the control plane
# (knode server), with its admin kubeconfig under ./knode-data. Extra arguments go to `knode server`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec node bin/knode.js server "$@"
