#!/usr/bin/env bash
# Load test of the predict endpoint with Debian's hey: 1, 32 and 128 connections, a hot swap under load
# and a short soak; prints req/s, p50/p99 latency and non-2xx answers per phase, with the CPU and the date.
#
#   scripts/load-test.sh                   # publishes a Release build and starts it on a free 127.0.0.1 port
#   scripts/load-test.sh --app DIR         # starts an already published service (DIR/CnnService.dll) instead
#   scripts/load-test.sh --url URL         # measures a running service (loopback only; no hot swap phase)
#   scripts/load-test.sh ... -- --Key=Value   # extra settings for the started service
#
# Environment: PHASE_SECONDS (default 15) per connection count, SOAK_SECONDS (default 60), SOAK_CONNECTIONS (32).
# Traffic goes to 127.0.0.1 only; the started service and its temp folder are removed on exit.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
phase_seconds="${PHASE_SECONDS:-15}"
soak_seconds="${SOAK_SECONDS:-60}"
soak_connections="${SOAK_CONNECTIONS:-32}"
url="" app=""
service_args=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --url) url="$2"; shift 2 ;;
    --app) app="$2"; shift 2 ;;
    --) shift; service_args=("$@"); break ;;
    *) echo "unknown argument: $1 (see the top of $0)" >&2; exit 2 ;;
  esac
done
command -v hey >/dev/null || { echo "hey is not installed (apt-get install hey)" >&2; exit 2; }
source "$repo/scripts/lib/bench.sh"

image="$repo/models/mnist/samples/digit-7.png"
work="$(mktemp -d -t cnn-load-XXXXXX)"
service_pid=""
cleanup() {
  stop_servers
  rm -rf "$work"
}
trap cleanup EXIT

if [[ -z "$url" ]]; then
  if [[ -z "$app" ]]; then
    echo "Publishing a Release build ..." >&2
    dotnet publish "$repo/src/CnnService" -c Release -o "$work/app" --nologo -v quiet >&2
    app="$work/app"
  fi
  # A private copy of the models, so the hot swap phase can add a version without touching the repository.
  cp -r "$repo/models" "$work/models"
  url="http://127.0.0.1:$(free_ports 1)"
  start_server service "$app" CnnService.dll "$url" /health/ready \
    --Models:Root="$work/models" --Jobs:Root="$work/jobs" --Grpc:Port=0 "${service_args[@]}"
  service_pid="$started_pid"
fi
case "$url" in http://127.0.0.1:*|http://localhost:*) ;; *) echo "only loopback URLs: $url" >&2; exit 2 ;; esac

predict="$url/v1/models/mnist/predict"
echo "# CnnService load test, $(host_line)"
echo "# predict $(basename "$image") (28x28 PNG) at $predict, ${phase_seconds}s per phase"
printf '%-22s %6s %10s %9s %9s %8s\n' phase conns req/s p50_ms p99_ms non2xx

# Runs hey and prints one line: req/s, p50 and p99 in ms, and answers that were not 2xx (errors included).
measure() {
  local name="$1" connections="$2" seconds="$3" rps p50 p99 bad
  read -r rps p50 p99 bad _ < <(hey -z "${seconds}s" -c "$connections" -m POST -T image/png -D "$image" "$predict" | hey_summary)
  printf '%-22s %6d %10.0f %9.1f %9.1f %8d\n' "$name" "$connections" "$rps" "$p50" "$p99" "$bad"
}

hey -z 3s -c 8 -m POST -T image/png -D "$image" "$predict" >/dev/null   # warm the JIT and the pools
for connections in 1 32 128; do measure "predict" "$connections" "$phase_seconds"; done

if [[ -n "$service_pid" ]]; then
  # A new version appears on disk mid-run: the watcher loads it, warms it and makes it the default.
  latest="$(ls "$work/models/mnist" | grep -E '^[0-9]+$' | sort -n | tail -1)"
  ( sleep $((phase_seconds / 3)); cp -r "$work/models/mnist/$latest" "$work/models/mnist/.incoming"; mv "$work/models/mnist/.incoming" "$work/models/mnist/$((latest + 1))" ) &
  swapper=$!
  measure "hot swap v$latest->v$((latest + 1))" 32 "$phase_seconds"
  wait "$swapper"
  [[ $(curl -fs "$url/v1/models/mnist") == *"\"version\":$((latest + 1))"* ]] && echo "# hot swap: v$((latest + 1)) is the default" || echo "# hot swap: v$((latest + 1)) did NOT become the default"
fi

measure "soak" "$soak_connections" "$soak_seconds"
[[ -n "$service_pid" ]] && echo "# service RSS after the soak: $(( $(ps -o rss= -p "$service_pid") / 1024 )) MB, $(wc -c <"$work/service.log") bytes of log"
