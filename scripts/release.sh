#!/usr/bin/env bash
# Build Rampart's release artefacts into dist/: static, reproducible binaries
# for linux/amd64, linux/arm64, darwin/arm64 and windows/amd64, a CycloneDX
# SBOM (rampart.cdx.json) generated from the modules compiled in, and
# SHA256SUMS. Nothing is published.
#
#   scripts/release.sh v1.2.3            # on the tagged commit
#   scripts/release.sh                   # devel-<commit>, as CI does
#   OUT=/tmp/dist scripts/release.sh v1.2.3
#
# The same commit and Go toolchain give the same bytes: the version, commit
# and date stamped in come from git (SOURCE_DATE_EPOCH overrides the date).
set -euo pipefail
cd "$(dirname "$0")/.."
args=(-out "${OUT:-dist}")
if [ $# -gt 0 ]; then
  args+=(-version "$1")
  shift
fi
exec go run ./internal/releasetool "${args[@]}" "$@"
