#!/usr/bin/env bash
# Builds costroute and runs every test: unit tests, the command line,
# fuzz corpora, scikit-learn parity and training checks, the examples, and
# a consumer project built against the installed package.
# Usage: tools/test.sh            (from anywhere; installs missing packages)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/tools/install_deps.sh"
cd "$root"
# The scikit-learn parity tests read ../shared (beside the clone): where it
# is, they must run; where it is not, CMake skips them with a warning.
require_sklearn=OFF
[ -d "$root/../shared/parity" ] && require_sklearn=ON
cmake --preset default -DCOSTROUTE_REQUIRE_SKLEARN=$require_sklearn >/dev/null
cmake --build --preset default -j2
ctest --preset default -j2

# The installed package works for a consumer (find_package(costroute)).
prefix="$root/build/install-test"
rm -rf "$prefix" build/consumer
cmake --install build --prefix "$prefix" >/dev/null
cmake -S tests/install -B build/consumer -G Ninja -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build build/consumer -j2 >/dev/null
build/consumer/consumer "$root/models/default.model.json"
echo "all tests passed"
