#!/usr/bin/env bash
# Installs Debian's Chromium for the dashboard's browser test (test/browser) when none is there:
# `apt-get install -y chromium` (about 45 s), as root. Run by `npm test` (pretest) and by .ci/run;
# quick when it is installed. Where it cannot be installed, the browser test fails naming it.
set -uo pipefail

if command -v chromium >/dev/null || [ -x /usr/bin/chromium ]; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "Installing chromium (Debian) for the dashboard's browser test..."
  DEBIAN_FRONTEND=noninteractive apt-get install -y chromium >/dev/null 2>&1 ||
    { apt-get update >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium >/dev/null 2>&1; } ||
    echo "Could not install chromium: the browser test will fail (install it: apt-get install -y chromium)."
else
  echo "chromium is not installed: the browser test will fail (install it: apt-get install -y chromium)."
fi
exit 0
