#!/bin/sh
# Install the Debian packages nncc needs, when they are missing.
# As root it runs apt-get; otherwise it names the missing packages and fails.
#   .ci/deps.sh          build and test dependencies (Open MPI for make check-mpi),
#                        and the Fashion-MNIST data
#   .ci/deps.sh --bench  also python3-torch (the reference `make bench` compares with)
set -e
pkgs="make gcc clang flex bison pkg-config libcmocka-dev zlib1g-dev libcjson-dev libomp-dev valgrind openmpi-bin libopenmpi-dev dataset-fashion-mnist"
[ "${1:-}" = "--bench" ] && pkgs="$pkgs python3-torch libopenblas0 libopenblas-dev"
missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ]; then
  echo "installing:$missing"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq $missing >/dev/null
else
  echo "nncc needs these Debian packages:$missing" >&2
  echo "install them with: sudo apt-get install$missing" >&2
  exit 1
fi
