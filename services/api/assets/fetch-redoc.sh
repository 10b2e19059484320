#!/usr/bin/env bash
# Re-fetches the docs page's script, vendored here so that /v1/docs works offline and under a
# strict Content-Security-Policy: Redoc's standalone bundle, pinned by version and SHA-256.
# `npm pack` checks the tarball against the registry's integrity hash; this script then checks
# the bundle against the SHA-256 the api was reviewed with, and copies it (and its license
# notices) into services/api/assets/. To move to another version: change REDOC_VERSION, run
# with --update to print the new SHA-256, review the bundle, put the SHA-256 here.
# Usage: services/api/assets/fetch-redoc.sh [--check | --update]
#   (no flag)  fetch, verify, write redoc.standalone.js and redoc.LICENSE
#   --check    fetch and verify, and fail unless the committed files are those bytes
#   --update   fetch and print the bundle's SHA-256 without verifying it
set -euo pipefail
REDOC_VERSION=2.5.4
REDOC_SHA256=dcaf76612bc4a3fbcc923a8966dee2f6146a5f32e5ce1b6f02dd60cbbf89500b
ASSETS=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

(cd "$WORK" && npm pack --silent "redoc@$REDOC_VERSION" >/dev/null && tar xzf "redoc-$REDOC_VERSION.tgz")
bundle="$WORK/package/bundles/redoc.standalone.js"
actual=$(sha256sum "$bundle" | awk '{ print $1 }')
if [[ ${1:-} == --update ]]; then
  echo "redoc $REDOC_VERSION redoc.standalone.js sha256 $actual"
  exit 0
fi
if [[ $actual != "$REDOC_SHA256" ]]; then
  echo "redoc $REDOC_VERSION: redoc.standalone.js has sha256 $actual, expected $REDOC_SHA256" >&2
  exit 1
fi
{
  cat "$WORK/package/LICENSE"
  echo
  echo "-----"
  echo "Third-party notices bundled in redoc.standalone.js (from redoc.standalone.js.LICENSE.txt):"
  cat "$WORK/package/bundles/redoc.standalone.js.LICENSE.txt"
} >"$WORK/redoc.LICENSE"
if [[ ${1:-} == --check ]]; then
  cmp "$bundle" "$ASSETS/redoc.standalone.js"
  cmp "$WORK/redoc.LICENSE" "$ASSETS/redoc.LICENSE"
  echo "redoc $REDOC_VERSION: committed bundle and license match (sha256 $actual)"
  exit 0
fi
cp "$bundle" "$ASSETS/redoc.standalone.js"
cp "$WORK/redoc.LICENSE" "$ASSETS/redoc.LICENSE"
echo "redoc $REDOC_VERSION written to $ASSETS (sha256 $actual)"
