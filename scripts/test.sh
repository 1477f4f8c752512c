#!/usr/bin/env bash
# Install everything in this repo, then run every test suite: the core, each plugin, the template.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/_install.sh all
. scripts/_python.sh
export OPCORE_STRICT_PLUGINS=1
# every first-party plugin must load here (tests/plugins/test_first_party_loaded.py)
export OPCORE_REQUIRE_PLUGINS=1
# a private compile cache so runs never share state with the user's
# rewrite_raise: a rewrite that raises on a valid graph is a bug, so in CI it fails the test
export OPCORE_FLAGS="compiledir=$(mktemp -d)/opcore-cache,rewrite_raise=True${OPCORE_FLAGS:+,$OPCORE_FLAGS}"
suites=(tests)
for d in plugins/*/tests op_templates/tests; do
  [ -d "$d" ] && suites+=("$d")
done
"$PY" -m pytest -q -p no:cacheprovider --import-mode=importlib "${suites[@]}" "$@"
# once more, the core's op-family tests on the C backend: the ops it has no C for xfail with its
# reason (-rx lists them: the C backend's coverage)
OPCORE_TEST_BACKEND=c "$PY" -m pytest -q -p no:cacheprovider --import-mode=importlib \
  -m opcore_backend -rx tests/tensor
