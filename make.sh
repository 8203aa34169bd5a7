#!/bin/sh
# make, on a fresh Debian 12 that may not have it yet: installs the Debian
# packages the build needs (make among them), then runs make with the same
# arguments. The README's commands: ./make.sh demo, ./make.sh check.
set -e
cd "$(dirname "$0")"
bash packaging/install-deps.sh
exec make "$@"
