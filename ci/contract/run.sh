#!/usr/bin/env bash
# The contract checks (see run.py): a venv under target/ with the pinned
# tools of requirements.txt, the `pushpull` debug binary, then run.py.
#
#   ci/contract/run.sh                      # all steps
#   ci/contract/run.sh validate interop     # some of them
set -euo pipefail
cd "$(dirname "$0")/../.."

venv=target/contract-venv
stamp="$venv/.requirements"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
# Reinstall only when the pins changed.
if ! cmp -s ci/contract/requirements.txt "$stamp"; then
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r ci/contract/requirements.txt
    cp ci/contract/requirements.txt "$stamp"
fi

cargo build --quiet --locked -p pushpull
exec "$venv/bin/python" ci/contract/run.py target/debug/pushpull "$@"
