#!/bin/bash
# Builds Debian 12's slim base image locally, with debootstrap, and tags it
# with the name the Dockerfile starts from, for machines that cannot pull
# it from a registry. Where a registry is reachable, skip this: podman or
# docker pulls the image itself.
#
#   bash packaging/make-debian-base-image.sh [--force]
#
# As root on a Debian host (installs debootstrap if it is missing). Uses
# podman, or docker where podman is absent. DEBIAN_MIRROR and
# DEBIAN_SECURITY_MIRROR choose the mirrors (deb.debian.org by default).
set -euo pipefail

image=docker.io/library/debian:bookworm-slim
engine=$(command -v podman || command -v docker) || { echo "$0: needs podman or docker" >&2; exit 1; }
if [ "${1:-}" != --force ] && "$engine" image inspect "$image" >/dev/null 2>&1; then
  echo "$image: already here"
  exit 0
fi
if ! command -v debootstrap >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap
fi
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
security_mirror=${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}

rootfs=$(mktemp -d /tmp/debian-base-image.XXXXXX)
trap 'rm -rf "$rootfs"' EXIT
echo "$image: debootstrap from $mirror (a few minutes)"
debootstrap --variant=minbase bookworm "$rootfs" "$mirror" > "$rootfs.log" 2>&1 \
  || { tail -20 "$rootfs.log" >&2; exit 1; }
rm -f "$rootfs.log"

# What makes the official image "slim": later installs leave out docs,
# man pages and translations (copyright files stay), and apt keeps no
# downloaded packages.
cat > "$rootfs/etc/dpkg/dpkg.cfg.d/docker" <<'CFG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
CFG
cat > "$rootfs/etc/apt/apt.conf.d/docker-clean" <<'CFG'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
CFG
find "$rootfs/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
rm -rf "$rootfs"/usr/share/{man,info,locale,groff,lintian}/*
rm -f "$rootfs/etc/apt/sources.list"
cat > "$rootfs/etc/apt/sources.list.d/debian.sources" <<SOURCES
Types: deb
URIs: $mirror
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $security_mirror
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/log/*.log

tar -C "$rootfs" -c . | "$engine" import --change 'CMD ["bash"]' - "$image" > /dev/null
echo "$image: made locally"
