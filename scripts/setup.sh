#!/usr/bin/env bash
# Installs what knode and its tests need on a fresh Debian 12 machine, then installs and builds the
# project (npm ci runs the build through `prepare`). Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"

node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ]; then
  echo "setup: knode needs Node.js 20 or newer (found: $(node --version 2>/dev/null || echo none))." >&2
  exit 1
fi

echo "setup: [1/3] Debian packages"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# python3/make/g++/gcc/libc6-dev: better-sqlite3 compiles from source here (its prebuilt download is
#   unreachable); the lab's test image links a tiny static UDP echo server.
# etcd: the store of `knode server --etcd-servers` and `lab up --etcd N` (tests run real members), and
#   the reference the apiserver benchmark compares against. (openssl, for the etcd TLS test, comes with ca-certificates.)
# containerd/runc/CNI plugins/busybox-static/iproute2/nftables/iptables/conntrack: the lab's nodes.
# clang/libbpf-dev: the pod fast path (cni/fastpath/: tc programs compiled for BPF, and their loader).
$SUDO apt-get install -y -qq --no-install-recommends \
  ca-certificates python3 make g++ gcc libc6-dev iproute2 etcd-server etcd-client \
  containerd runc containernetworking-plugins busybox-static nftables iptables conntrack tcpdump iperf3 curl clang libbpf-dev >/dev/null

echo "setup: [2/3] npm packages (npm ci; builds dist/)"
npm ci --no-audit --no-fund --loglevel=error

echo "setup: [3/3] checking tools the tests use"
if ! command -v kubectl >/dev/null 2>&1; then
  echo "setup: warning: kubectl is not installed; the end-to-end tests drive the cluster with the real kubectl and will fail without it." >&2
fi
echo "setup: done"
