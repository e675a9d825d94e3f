#!/usr/bin/env bash
# Runs the two-tab demo. The demo (its page and Socket.IO server) is not built yet: it arrives
# with the browser SDK and demo milestones. Until then this says so and exits non-zero.
set -euo pipefail
echo "peercall demo: not built yet (the browser SDK and the demo page are the next milestones)." >&2
echo "Run tests/run.sh to run the test suite." >&2
exit 1
