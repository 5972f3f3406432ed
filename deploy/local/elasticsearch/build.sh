#!/usr/bin/env bash
# Builds the local Elasticsearch launcher into target/ (quiet; only errors are printed).
# Skips Maven when target/localsearch.jar is newer than pom.xml and every source file.
# Extra Maven flags can be passed through, e.g. ./build.sh -Dmaven.repo.local=/tmp/m2
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
. "$here/java_home.sh"

jar=target/localsearch.jar
stale=1
if [[ -f "$jar" && -f target/modules/localsearch-compat/localsearch-compat.jar \
      && -f target/modules/transport-netty4/transport-netty4-8.19.21.jar && -d target/lib ]]; then
  if [[ -z "$(find pom.xml src -newer "$jar" -print -quit)" ]]; then
    stale=0
  fi
fi

if [[ $stale -eq 1 ]]; then
  log="$(mktemp)"
  if ! mvn -B -q -Dstyle.color=never "$@" clean package >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    echo "build.sh: maven build failed" >&2
    exit 1
  fi
  rm -f "$log"
  touch "$jar"
fi

# Optional native libraries for ES's native access layer (see src/main/native/vec_stub.c).
# Without a C compiler or the system libzstd the node still runs; only zstd-based codecs fail.
native=target/native
if [[ ! -f "$native/libvec.so" || src/main/native/vec_stub.c -nt "$native/libvec.so" ]]; then
  zstd=""
  for z in /usr/lib/x86_64-linux-gnu/libzstd.so.1 /usr/lib/aarch64-linux-gnu/libzstd.so.1 /usr/lib64/libzstd.so.1 /usr/lib/libzstd.so.1; do
    if [[ -e "$z" ]]; then zstd="$z"; break; fi
  done
  cc_bin="$(command -v cc || command -v gcc || true)"
  if [[ -n "$zstd" && -n "$cc_bin" ]]; then
    mkdir -p "$native"
    "$cc_bin" -shared -fPIC -O2 -o "$native/libvec.so.tmp" src/main/native/vec_stub.c
    mv -f "$native/libvec.so.tmp" "$native/libvec.so"
    ln -sfn "$zstd" "$native/libzstd.so"
  fi
fi
