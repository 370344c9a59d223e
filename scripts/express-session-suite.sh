#!/usr/bin/env bash
# Runs express-session's own test suite (expressjs/session, test/*.js) with its MemoryStore
# replaced by toExpressSessionStore(<a tsession store>), once per store. Fetches nothing:
# give it a checkout whose dev dependencies are installed, e.g.
#   git clone https://github.com/expressjs/session /tmp/express-session && (cd /tmp/express-session && npm install)
#   scripts/express-session-suite.sh /tmp/express-session            # memory sqlite redis postgres
#   scripts/express-session-suite.sh /tmp/express-session redis      # one store
# Redis and PostgreSQL are the test services (TSESSION_TEST_REDIS_URL, TSESSION_TEST_POSTGRES_URL).
set -euo pipefail
checkout=$(cd "${1:?usage: $0 <expressjs/session checkout> [memory|sqlite|redis|postgres]...}" && pwd)
shift
stores=("${@:-memory sqlite redis postgres}")
repo=$(cd "$(dirname "$0")/.." && pwd)
[ -x "$checkout/node_modules/.bin/mocha" ] || { echo "run npm install in $checkout first" >&2; exit 2; }
(cd "$checkout" && ./test/support/gencert.sh >/dev/null 2>&1) || true # its https tests need the certificate
status=0
for store in ${stores[@]}; do
  echo "== express-session suite over toExpressSessionStore($store)"
  (cd "$checkout" && EXPRESS_SESSION_CHECKOUT="$checkout" TSESSION_SUITE_STORE="$store" \
    NODE_OPTIONS="--import=$repo/node_modules/tsx/dist/esm/index.mjs --conditions=tsession-source" \
    node_modules/.bin/mocha --require test/support/env --require "$repo/scripts/express-session-suite.ts" \
    --check-leaks --reporter dot test/) || status=1
done
exit $status
