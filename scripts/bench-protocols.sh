#!/usr/bin/env bash
# The service's four inference front doors under the same load, in one run: the same digit (models/mnist/samples/
# digit-7.png) sent as
#   v1 png       POST /v1/models/mnist/predict, the PNG as the body (decoded and preprocessed by the service)
#   v2 json      POST /v2/models/mnist/infer, a UINT8 [1,1,28,28] tensor as JSON (--v2-json fp32: FP32 pixels / 255)
#   v2 binary    the same with the binary tensor extension, the output asked for as binary too
#   grpc         inference.GRPCInferenceService/ModelInfer, the UINT8 tensor as raw_input_contents
# at --connections (32) concurrent connections, alternated for --rounds (3) rounds of --seconds (10) each, after a
# warm-up of every door. Prints each round, then a table with each door's median req/s, p50 and p99 over the rounds
# and its failed requests (non-2xx, or a gRPC status other than OK), with the CPU and the date.
#
#   scripts/bench-protocols.sh [--rounds N] [--seconds S] [--connections C] [--v2-json uint8|fp32]
#   scripts/bench-protocols.sh ... --app DIR          # starts an already published service (DIR/CnnService.dll)
#   scripts/bench-protocols.sh ... -- --Key=Value     # extra settings for the started service
#
# HTTP load comes from Debian's hey, gRPC load from tools/CnnService.LoadTool (cnn-load grpc, ghz-like: one HTTP/2
# connection per channel, one call in flight per caller), which also writes the request bodies. Both run on the
# same machine as the service and share its cores, so the figures are the whole machine's, client included.
# Traffic goes to 127.0.0.1 only; the started service and its temp folder are removed on exit.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
rounds=3 seconds=10 connections=32 v2_json=uint8 app=""
service_args=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --rounds) rounds="$2"; shift 2 ;;
    --seconds) seconds="$2"; shift 2 ;;
    --connections) connections="$2"; shift 2 ;;
    --v2-json) v2_json="$2"; shift 2 ;;
    --app) app="$2"; shift 2 ;;
    --) shift; service_args=("$@"); break ;;
    *) echo "unknown argument: $1 (see the top of $0)" >&2; exit 2 ;;
  esac
done
[[ "$rounds" =~ ^[1-9][0-9]*$ && "$seconds" =~ ^[1-9][0-9]*$ && "$connections" =~ ^[1-9][0-9]*$ ]] \
  || { echo "--rounds, --seconds and --connections are positive whole numbers" >&2; exit 2; }
[[ "$v2_json" == uint8 || "$v2_json" == fp32 ]] || { echo "--v2-json is uint8 or fp32" >&2; exit 2; }
for tool in hey jq curl python3 od; do command -v "$tool" >/dev/null || { echo "$tool is not installed" >&2; exit 2; }; done
source "$repo/scripts/lib/bench.sh"

image="$repo/models/mnist/samples/digit-7.png"
expected=7
work="$(mktemp -d -t cnn-protocols-XXXXXX)"
cleanup() {
  stop_servers
  rm -rf "$work"
}
trap cleanup EXIT

echo "Publishing Release builds of the service and cnn-load ..." >&2
if [[ -z "$app" ]]; then
  nice -n 19 dotnet publish "$repo/src/CnnService" -c Release -o "$work/app" --nologo -v quiet >&2
  app="$work/app"
fi
nice -n 19 dotnet publish "$repo/tools/CnnService.LoadTool" -c Release -o "$work/load" --nologo -v quiet >&2
load() { dotnet "$work/load/cnn-load.dll" "$@"; }
load bodies --image "$image" --out "$work/bodies"
bodies="$work/bodies"
header_length="$(cat "$bodies/v2-binary.header-length")"
v2_json_body="$bodies/v2-$v2_json.json"

read -r port grpc_port < <(free_ports 2)   # REST and gRPC (h2c)
url="http://127.0.0.1:$port"
cp -r "$repo/models" "$work/models"
start_server service "$app" CnnService.dll "$url" /health/ready \
  --Models:Root="$work/models" --Jobs:Root="$work/jobs" --Grpc:Port="$grpc_port" "${service_args[@]}"
service_pid="$started_pid"

predict="$url/v1/models/mnist/predict"
infer="$url/v2/models/mnist/infer"
doors=("v1 png" "v2 json" "v2 binary" "grpc")

# Each door once, answered with the digit's class: a wrong request would otherwise be measured as a fast error.
check() { [[ "$2" == "$expected" ]] || { echo "$1 answered class '$2', not $expected: the request or the service is wrong" >&2; exit 1; }; }
check "v1 png" "$(curl -fsS -H 'Content-Type: image/png' --data-binary @"$image" "$predict" | jq -r '.predictions[0].top[0].index')"
check "v2 json" "$(curl -fsS -H 'Content-Type: application/json' --data-binary @"$v2_json_body" "$infer" \
  | jq -r '.outputs[0].data | to_entries | max_by(.value) | .key')"
curl -fsS -D "$work/binary.headers" -o "$work/binary.answer" -H 'Content-Type: application/octet-stream' \
  -H "Inference-Header-Content-Length: $header_length" --data-binary @"$bodies/v2-binary.bin" "$infer"
answer_header="$(tr -d '\r' <"$work/binary.headers" | sed -n 's/^inference-header-content-length: *//Ip')"
check "v2 binary" "$(tail -c +"$((answer_header + 1))" "$work/binary.answer" | od -A n -v -t f4 \
  | tr -s ' ' '\n' | awk 'NF { if (n == 0 || $1 > best) { best = $1; top = n } n++ } END { print top }')"
check "grpc" "$(load grpc --target "127.0.0.1:$grpc_port" --raw "$bodies/tensor-uint8.raw" --connections 1 --requests 1 \
  --warmup 0s 2>&1 >/dev/null | sed -n 's/.*top class \([0-9]*\).*/\1/p')"

# One measurement of a door, on one line: req/s, p50 and p99 in ms, failed requests, and the CPU each request cost the
# service (its /proc utime + stime over the run, warm-up calls included in the count) and the load generator.
clock_ticks="$(getconf CLK_TCK)"
service_ticks() { awk '{ print $14 + $15 }' "/proc/$service_pid/stat"; }
measure() {
  local door="$1" duration="$2" before rps p50 p99 bad calls served client TIMEFORMAT='%U %S'
  before="$(service_ticks)"
  if [[ "$door" == grpc ]]; then
    load grpc --target "127.0.0.1:$grpc_port" --raw "$bodies/tensor-uint8.raw" --connections "$connections" \
      --duration "$duration" --warmup 1s --json 2>>"$work/cnn-load.log" >"$work/out"
    read -r rps p50 p99 bad calls served client < <(jq -r \
      '"\(.rps) \(.latency_ms.p50) \(.latency_ms.p99) \(.errors) \(.count) \(.count + .warmup_count) \(.client_cpu_ms_per_call)"' "$work/out")
  else
    local -a args=(-z "$duration" -c "$connections" -m POST)
    case "$door" in
      "v1 png") args+=(-T image/png -D "$image" "$predict") ;;
      "v2 json") args+=(-T application/json -D "$v2_json_body" "$infer") ;;
      "v2 binary") args+=(-T application/octet-stream -H "Inference-Header-Content-Length: $header_length" -D "$bodies/v2-binary.bin" "$infer") ;;
    esac
    { time hey "${args[@]}" >"$work/out"; } 2>"$work/client.time"
    read -r rps p50 p99 bad calls < <(hey_summary <"$work/out")
    served="$calls"
    client="$(tail -n 1 "$work/client.time" | awk -v n="$calls" '{ printf "%.4f", n ? ($1 + $2) * 1000 / n : 0 }')"
  fi
  awk -v t="$(( $(service_ticks) - before ))" -v hz="$clock_ticks" -v n="$served" -v line="$rps $p50 $p99 $bad" -v client="$client" \
    'BEGIN { printf "%s %.4f %s\n", line, n ? t * 1000 / hz / n : 0, client }'
}

echo "# CnnService front doors, $(host_line)"
echo "# mnist (default version), $(basename "$image"); $connections connections; $rounds round(s) of ${seconds}s per door, alternated;"
echo "# v2 json sends $(tr a-z A-Z <<<"$v2_json"); the load generators (hey, cnn-load) share the service's cores"
for door in "${doors[@]}"; do measure "$door" 3s >/dev/null; done   # warm the JIT, the pools and the batcher
: >"$work/cnn-load.log"   # from here on, only the measured rounds' messages

results="$work/results"
printf '%-6s %-10s %10s %9s %9s %7s %12s %12s\n' round door req/s p50_ms p99_ms errors svc_ms/req client_ms/req
for round in $(seq 1 "$rounds"); do
  for door in "${doors[@]}"; do
    read -r rps p50 p99 bad service client < <(measure "$door" "${seconds}s") || true
    if [[ -z "${client:-}" ]] || ! kill -0 "$service_pid" 2>/dev/null; then
      echo "no measurement of $door in round $round; the service's last words:" >&2; tail -5 "$work/service.log" >&2; exit 1
    fi
    printf '%-6s %-10s %10.0f %9.2f %9.2f %7d %12.3f %12.3f\n' "$round" "$door" "$rps" "$p50" "$p99" "$bad" "$service" "$client"
    echo "$door|$rps|$p50|$p99|$bad|$service|$client" >>"$results"
  done
done

echo
printf '| %-10s | %10s | %8s | %8s | %7s | %15s | %14s |\n' "front door" "req/s" "p50 ms" "p99 ms" errors "service CPU/req" "client CPU/req"
printf '|%s|%s|%s|%s|%s|%s|%s|\n' ------------ ------------ ---------- ---------- --------- ----------------- ----------------
# The median of one column (2 req/s, 3 p50, 4 p99, 6 service CPU, 7 client CPU) of one door's rounds.
median() { grep -F "$1|" "$results" | cut -d'|' -f"$2" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
for door in "${doors[@]}"; do
  errors="$(grep -F "$door|" "$results" | cut -d'|' -f5 | awk '{ s += $1 } END { print s }')"
  printf '| %-10s | %10.0f | %8.2f | %8.2f | %7d | %12.3f ms | %11.3f ms |\n' "$door" "$(median "$door" 2)" "$(median "$door" 3)" \
    "$(median "$door" 4)" "$errors" "$(median "$door" 6)" "$(median "$door" 7)"
done
echo "# medians over the rounds, errors summed; CPU per request: the service's (/proc utime + stime) and the load generator's"
grep 'first failed call' "$work/cnn-load.log" | sort -u | head -3 || true
