#!/usr/bin/env bash
# The Dockerfile's base image, node:24-bookworm-slim, for machines that cannot pull it (no image
# registry reachable, as in this project's CI). Prints one line saying what it did.
#
#   scripts/image-base.sh     make sure `podman image exists docker.io/library/node:24-bookworm-slim`
#
# In order: an image already there that was pulled (not made by this script) is used as is; a
# pull is tried; failing that, an image of the same shape is made from what is reachable:
# Debian bookworm (debootstrap minbase, from the mirror apt already uses), the Node 24 pinned and
# verified by scripts/node24.sh, npm $NPM_VERSION from the npm registry, and the `node` user and
# group with uid/gid 1000 as in the official image. The made root file system is cached as a tar
# (in /var/cache/faspex-ingest, keyed by every input), so a later run imports it in seconds.
# Needs root, debootstrap and podman (apt-get install -y buildah podman debootstrap).
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE=docker.io/library/node:24-bookworm-slim
SUITE=bookworm
NPM_VERSION=11.19.1
LABEL=faspex-ingest.base-key

say() { echo "image-base.sh: $*" >&2; }

mirror() {
  local m
  m=$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
  [ -n "$m" ] || m=$(awk '$1 == "deb" && $3 ~ /^bookworm$/ { print $2; exit }' /etc/apt/sources.list 2>/dev/null || true)
  echo "${m:-http://deb.debian.org/debian}"
}

node_dir=$(scripts/node24.sh)
node_version=$("$node_dir/bin/node" --version)
MIRROR=$(mirror)
# Everything the made image depends on: a change to any of them makes a new one.
key=$( { echo "$SUITE $MIRROR $node_version npm@$NPM_VERSION"; cat "$0"; } | sha256sum | cut -c1-16)

if podman image exists "$IMAGE"; then
  have=$(podman image inspect "$IMAGE" --format "{{ index .Labels \"$LABEL\" }}" 2>/dev/null || true)
  if [ -z "$have" ] || [ "$have" = "<no value>" ]; then
    echo "base image: $IMAGE is present (pulled), using it"
    exit 0
  fi
  if [ "$have" = "$key" ]; then
    echo "base image: $IMAGE is present (made here from Debian $SUITE and Node $node_version, key $key), using it"
    exit 0
  fi
  say "the $IMAGE made here has key $have, its inputs now give $key: making it again"
  podman rmi -f "$IMAGE" >/dev/null
elif podman pull -q "$IMAGE" >/dev/null 2>&1; then
  echo "base image: pulled $IMAGE"
  exit 0
fi

cache=${FASPEX_NODE_CACHE:-/var/cache/faspex-ingest}
mkdir -p "$cache/image-base"
tar_file=$cache/image-base/node24-$SUITE-$key.tar
how="imported from the cache $tar_file"

if [ ! -s "$tar_file" ]; then
  start=$SECONDS
  root=$(mktemp -d "$cache/image-base/.root.XXXXXX")
  trap 'rm -rf "$root" "$tar_file.tmp"' EXIT
  say "$IMAGE cannot be pulled: making it from Debian $SUITE ($MIRROR) and Node $node_version (about 2 minutes)"
  debootstrap --variant=minbase "$SUITE" "$root" "$MIRROR" >"$root.log" 2>&1 || { cat "$root.log" >&2; exit 1; }
  rm -f "$root.log"
  install -m 0755 "$node_dir/bin/node" "$root/usr/local/bin/node"
  npm_dir=$root/usr/local/lib/node_modules/npm
  mkdir -p "$npm_dir"
  (cd "$root" && npm pack "npm@$NPM_VERSION" --silent >/dev/null)
  tar -xzf "$root/npm-$NPM_VERSION.tgz" -C "$npm_dir" --strip-components=1
  rm "$root/npm-$NPM_VERSION.tgz"
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
  chroot "$root" groupadd --gid 1000 node
  chroot "$root" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
  # The official Debian images' apt and dpkg settings: no package archives, caches, documentation
  # or translations are kept, in this image or in images built on it (a layer that installs
  # packages otherwise keeps their .deb files).
  cat >"$root/etc/apt/apt.conf.d/docker-clean" <<'APT'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
APT
  echo 'Acquire::Languages "none";' >"$root/etc/apt/apt.conf.d/docker-no-languages"
  echo 'Acquire::GzipIndexes "true";' >"$root/etc/apt/apt.conf.d/docker-gzip-indexes"
  printf '%s\n' 'path-exclude /usr/share/doc/*' 'path-include /usr/share/doc/*/copyright' 'path-exclude /usr/share/man/*' \
    'path-exclude /usr/share/groff/*' 'path-exclude /usr/share/info/*' 'path-exclude /usr/share/lintian/*' \
    'path-exclude /usr/share/locale/*' >"$root/etc/dpkg/dpkg.cfg.d/docker"
  find "$root/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb \
    "$root"/usr/share/man/* "$root"/usr/share/locale/* "$root"/usr/share/info/*
  tar --numeric-owner -C "$root" -cf "$tar_file.tmp" .
  mv "$tar_file.tmp" "$tar_file"
  # an older key's tar is never used again
  find "$cache/image-base" -maxdepth 1 -name 'node24-*.tar' ! -path "$tar_file" -delete
  how="made from Debian $SUITE and Node $node_version in $((SECONDS - start)) s, cached as $tar_file"
fi

podman import -q \
  --change "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
  --change "ENV NODE_VERSION=${node_version#v}" \
  --change "LABEL $LABEL=$key" \
  --change 'CMD ["node"]' \
  "$tar_file" "$IMAGE" >/dev/null
echo "base image: $IMAGE cannot be pulled here; $how"
