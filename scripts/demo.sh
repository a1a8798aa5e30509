#!/usr/bin/env bash
# The main demo: the seed's three train steps and the MLP, parsed and
# verified by tape-opt.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="${TAPE_BUILD_DIR:-$here/build}/bin"

for f in "$here"/examples/seed/*.mlir "$here"/examples/mlp/*.mlir; do
  "$bin/tape-opt" "$f" -o /dev/null
  echo "verified: ${f#$here/}"
done
echo
echo "== The seed's first train step, as tape-opt prints it:"
"$bin/tape-opt" "$here/examples/seed/1_assign_sub.mlir"
