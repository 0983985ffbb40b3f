#!/usr/bin/env bash
# Builds the package's two copies from lib/: dist/esm (for `import`, and for `require` on Node
# through the `module-sync` condition) and dist/cjs (for `require` where ES modules cannot be
# required, such as Jest on Node 20 and 22). Both compile in parallel.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf dist
npx tsc -p tsconfig.build.json &
esm=$!
npx tsc -p tsconfig.build.cjs.json &
cjs=$!
wait "$esm"
wait "$cjs"
echo '{ "type": "commonjs" }' > dist/cjs/package.json
# The dashboard's files (HTML, CSS, browser scripts) are served as they are: copied, not compiled.
for build in esm cjs; do
  mkdir -p "dist/$build/admin/ui"
  cp lib/admin/ui/* "dist/$build/admin/ui/"
done
