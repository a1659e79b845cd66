#!/usr/bin/env bash
# The quick-start demo: builds the costroute command (installing what it
# needs from Debian's packages when missing), then routes 32 sample
# requests with the bundled default config and classifier, and prints each
# decision and the estimated cost against always using the strongest model.
# Usage: tools/demo.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/tools/install_deps.sh"
cd "$root"
cmake --preset default >/dev/null
cmake --build --preset default -j2 --target costroute_cli >/dev/null
build/costroute route --config models/default.config.json --data examples/requests.jsonl --format table
