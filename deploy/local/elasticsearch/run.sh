#!/usr/bin/env bash
# Run one local single-node Elasticsearch 8 in the foreground.
#   ./run.sh --home DIR --http-port PORT [--transport-port PORT|RANGE] [--node-name NAME]
# Stops cleanly (flush + exit 0) on SIGTERM/SIGINT. Logs go to stdout.
# Heap/JVM flags: ES_JAVA_OPTS (appended last, so e.g. ES_JAVA_OPTS="-Xmx2g" wins).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$here/java_home.sh"

if [[ ! -f "$here/target/localsearch.jar" ]]; then
  echo "run.sh: $here/target/localsearch.jar missing, run build.sh first" >&2
  exit 1
fi

home=""
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  case "${args[$i]}" in
    --home) home="${args[$((i + 1))]:-}" ;;
    --home=*) home="${args[$i]#--home=}" ;;
  esac
done
if [[ -z "$home" ]]; then
  echo "usage: run.sh --home DIR --http-port PORT" >&2
  exit 2
fi
mkdir -p "$home/tmp" "$home/logs"
home="$(cd "$home" && pwd)"

# Mostly the system JVM options of the official distribution (config/jvm.options + launcher defaults).
jvm_opts=(
  -Xms512m -Xmx1g
  -XX:+UseG1GC
  -Xss1m
  -Djava.awt.headless=true
  -Dfile.encoding=UTF-8
  -Djna.nosys=true
  -XX:-OmitStackTraceInFastThrow
  -Dio.netty.noUnsafe=true
  -Dio.netty.noKeySetOptimization=true
  -Dio.netty.recycler.maxCapacityPerThread=0
  -Dlog4j.shutdownHookEnabled=false
  -Dlog4j2.disable.jmx=true
  -Dlog4j2.formatMsgNoLookups=true
  -Djava.locale.providers=CLDR
  -Des.networkaddress.cache.ttl=60
  -Des.networkaddress.cache.negative.ttl=10
  -Dorg.apache.lucene.vectorization.upperJavaFeatureVersion=25
  -Djava.io.tmpdir="$home/tmp"
  -XX:ErrorFile="$home/logs/hs_err_pid%p.log"
)
java_feature="$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$JAVA_HOME/release" 2>/dev/null || true)"
if [[ "${java_feature:-17}" -ge 21 ]]; then
  # Panama (native access, vector API), as the official distribution enables them
  jvm_opts+=(--enable-native-access=ALL-UNNAMED --add-modules=jdk.incubator.vector)
fi
# Native access (zstd for best_compression etc.) when build.sh could prepare it.
if [[ -f "$here/target/native/libvec.so" && -e "$here/target/native/libzstd.so" ]]; then
  jvm_opts+=(-Des.nativelibs.path="$here/target/native")
fi
# shellcheck disable=SC2206
extra=(${ES_JAVA_OPTS:-})

exec "$JAVA_HOME/bin/java" "${jvm_opts[@]}" "${extra[@]}" \
  -Dlocalsearch.dist="$here/target" \
  -cp "$here/target/localsearch.jar:$here/target/lib/*" \
  org.unionportal.localsearch.LocalSearchNode "$@"
