# Sourced by build.sh and run.sh: picks the JDK for Elasticsearch 8.19.
# LOCALSEARCH_JAVA_HOME overrides; otherwise the first existing candidate wins.
if [[ -n "${LOCALSEARCH_JAVA_HOME:-}" ]]; then
  JAVA_HOME="$LOCALSEARCH_JAVA_HOME"
else
  JAVA_HOME=""
  for c in /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/java-21-openjdk-amd64 /usr/lib/jvm/java-17-openjdk-amd64; do
    if [[ -x "$c/bin/java" ]]; then JAVA_HOME="$c"; break; fi
  done
fi
if [[ -z "$JAVA_HOME" || ! -x "$JAVA_HOME/bin/java" ]]; then
  echo "no usable JDK found (set LOCALSEARCH_JAVA_HOME)" >&2
  exit 1
fi
export JAVA_HOME
