#!/usr/bin/env bash
# CnnService against the minimal service a .NET developer would write instead of adopting it
# (tests/CnnService.OrtBaseline: an ASP.NET Core minimal API holding one ONNX Runtime session, SkiaSharp
# decode, Warning-level logging), serving the identical network: models/mnist/VERSION, exported to ONNX
# with 'cnn export' for the baseline and served from model.json by CnnService. Debian's hey posts the
# 28x28 PNG models/mnist/samples/digit-7.png at 1 and 32 connections, the two servers interleaved
# (the order alternates each round), and a table per connection count gives the median req/s, p99 and
# CPU time per answered request of each and their ratio, with the CPU and the date. Goal (issue 17):
# CnnService at least 1.2x the baseline's req/s with a p99 no worse.
#
#   scripts/bench-serving.sh                        # 3 rounds of 10 s per server and connection count
#   scripts/bench-serving.sh --rounds 1 --seconds 5 # a quick look
#   scripts/bench-serving.sh --warmup 10            # seconds of warm-up per server and connection count (default 5)
#   scripts/bench-serving.sh --version 2            # another version of models/mnist (default 1, the Keras MNIST example net)
#   scripts/bench-serving.sh --threads 1            # the baseline's ONNX Runtime intra-op threads (default: the core count)
#   scripts/bench-serving.sh ... -- --Key=Value     # extra settings for CnnService
#
# Both servers listen on free 127.0.0.1 ports; they and the temp folder are removed on exit.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
rounds=3 seconds=10 warmup=5 version=1 threads=0
service_args=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --rounds) rounds="$2"; shift 2 ;;
    --seconds) seconds="$2"; shift 2 ;;
    --warmup) warmup="$2"; shift 2 ;;
    --version) version="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --) shift; service_args=("$@"); break ;;
    *) echo "unknown argument: $1 (see the top of $0)" >&2; exit 2 ;;
  esac
done
for n in "$rounds" "$seconds" "$warmup" "$version" "$threads"; do
  [[ "$n" =~ ^[0-9]+$ ]] || { echo "--rounds, --seconds, --warmup, --version and --threads take whole numbers, got '$n'" >&2; exit 2; }
done
(( rounds >= 1 && seconds >= 1 && warmup >= 1 )) || { echo "--rounds, --seconds and --warmup must be at least 1" >&2; exit 2; }
command -v hey >/dev/null || { echo "hey is not installed (apt-get install hey)" >&2; exit 2; }
for tool in curl python3 dotnet lscpu; do command -v "$tool" >/dev/null || { echo "$tool is not installed" >&2; exit 2; }; done
source "$repo/scripts/lib/bench.sh"
model="$repo/models/mnist/$version"
[[ -f "$model/model.json" ]] || { echo "no model at $model (models/mnist/N/model.json)" >&2; exit 2; }

image="$repo/models/mnist/samples/digit-7.png"
work="$(mktemp -d -t cnn-bench-serving-XXXXXX)"
cleanup() {
  stop_servers
  rm -rf "$work"
}
trap cleanup EXIT

echo "Publishing Release builds and exporting models/mnist/$version to ONNX ..." >&2
nice -n 19 dotnet publish "$repo/src/CnnService" -c Release -o "$work/cnn" --nologo -v quiet >&2
nice -n 19 dotnet publish "$repo/tests/CnnService.OrtBaseline" -c Release -o "$work/baseline" --nologo -v quiet >&2
nice -n 19 dotnet publish "$repo/src/CnnService.Cli" -c Release -o "$work/cli" --nologo -v quiet >&2
nice -n 19 dotnet "$work/cli/cnn.dll" export --onnx "$work/onnx/model.onnx" --model "$model" >&2

# CnnService serves only this network, as version 1 of mnist; the baseline takes the input normalisation
# the export wrote to config.json (model.json's input section with its defaults filled in).
mkdir -p "$work/models/mnist"
cp -r "$model" "$work/models/mnist/1"
read -r scale mean std < <(python3 -c '
import json, sys
i = json.load(open(sys.argv[1]))["input"]
if len(i["mean"]) != 1 or len(i["std"]) != 1: sys.exit("the baseline takes one grayscale channel; this input has %d" % len(i["mean"]))
print(i["scale"], i["mean"][0], i["std"][0])' "$work/onnx/config.json")

read -r cnn_port base_port < <(free_ports 2)
cnn_url="http://127.0.0.1:$cnn_port" base_url="http://127.0.0.1:$base_port"
start_server cnn "$work/cnn" CnnService.dll "$cnn_url" /health/ready \
  --Models:Root="$work/models" --Jobs:Root="$work/jobs" --Grpc:Port=0 "${service_args[@]}"
cnn_pid="$started_pid"
start_server baseline "$work/baseline" CnnService.OrtBaseline.dll "$base_url" /health \
  --Model:Path="$work/onnx/model.onnx" --Model:Scale="$scale" --Model:Mean="$mean" --Model:Std="$std" --Model:IntraOpThreads="$threads"
base_pid="$started_pid"

declare -A endpoint=([cnn]="$cnn_url/v1/models/mnist/predict" [baseline]="$base_url/predict")
declare -A server_pid=([cnn]="$cnn_pid" [baseline]="$base_pid")

# Both must classify digit-7 alike before their speed means anything.
post() { curl -fsS -X POST -H 'Content-Type: image/png' --data-binary "@$image" "$1"; }
post "${endpoint[cnn]}" >"$work/cnn.json"
post "${endpoint[baseline]}" >"$work/baseline.json"
python3 -c '
import json, sys
cnn = json.load(open(sys.argv[1]))["predictions"][0]
base = json.load(open(sys.argv[2]))
a, b, p = cnn["top"][0]["label"], base["label"], cnn["top"][0]["probability"]
diff = max(abs(x - y) for x, y in zip(cnn["probabilities"], base["probabilities"]))
print(f"# digit-7.png: CnnService says {a!r} ({p:.6f}), the baseline {b!r}; largest probability difference {diff:.2g}")
if a != b or len(cnn["probabilities"]) != len(base["probabilities"]):
    sys.exit("the two servers disagree about digit-7.png: not the same network or not the same input; no measurement")
' "$work/cnn.json" "$work/baseline.json"

echo "# CnnService vs minimal ONNX Runtime service, $(host_line)"
echo "# models/mnist/$version ($(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["description"])' "$model/model.json")), $(basename "$image") (28x28 PNG), $rounds round(s) of ${seconds}s per server and connection count"
printf '%-6s %-9s %6s %10s %9s %9s %8s %8s\n' round server conns req/s p50_ms p99_ms non2xx cpu_us

# measure ROUND NAME CONNECTIONS: one hey run; prints a row and appends it to $work/results.
measure() {
  local round="$1" name="$2" connections="$3" out rps p50 p99 bad answered cpu_before cpu_after
  cpu_before="$(cpu_ticks "${server_pid[$name]}")"
  out="$(hey -z "${seconds}s" -c "$connections" -m POST -T image/png -D "$image" "${endpoint[$name]}")" \
    || { echo "hey failed against $name at $connections connections" >&2; exit 1; }
  kill -0 "${server_pid[$name]}" 2>/dev/null || { echo "$name died during the run:" >&2; tail -50 "$work/$name.log" >&2; exit 1; }
  cpu_after="$(cpu_ticks "${server_pid[$name]}")"
  read -r rps p50 p99 bad answered < <(hey_summary <<<"$out") \
    || { echo "could not read hey's output for $name at $connections connections:" >&2; echo "$out" >&2; exit 1; }
  printf '%-6d %-9s %6d %10.0f %9.1f %9.1f %8d %8.0f\n' "$round" "$name" "$connections" "$rps" "$p50" "$p99" "$bad" \
    "$(( (cpu_after - cpu_before) * 1000000 / $(getconf CLK_TCK) / (answered > 0 ? answered : 1) ))" | tee -a "$work/results"
}

# Warm both at both connection counts (tiered JIT and dynamic PGO, pools, ONNX Runtime's threads): with a
# short warm-up the first measured runs still catch CnnService's larger request path in its early JIT tiers.
for name in cnn baseline; do
  for connections in 1 32; do hey -z "${warmup}s" -c "$connections" -m POST -T image/png -D "$image" "${endpoint[$name]}" >/dev/null; done
done

# Where the host has put the two CPUs: a cache line's round trip between them (cnn bench's probe). On a shared VM it
# moves between near (one L3) and far every few seconds, and a forward pass that two threads share follows it.
core_trip() {
  dotnet "$work/cli/cnn.dll" bench --arch keras-mnist --threads 2 --seconds 0.05 --warmup 0 \
    | sed -n "s/^cores *a cache line's round trip between two threads: \([^,]*\) before.*/\1/p"
}

for round in $(seq 1 "$rounds"); do
  if (( $(nproc) > 1 )); then echo "# round $round: a cache line's round trip between the two CPUs: $(core_trip)"; fi
  if (( round % 2 == 1 )); then order=(cnn baseline); else order=(baseline cnn); fi
  for connections in 1 32; do
    for name in "${order[@]}"; do measure "$round" "$name" "$connections"; done
  done
done

python3 - "$work/results" <<'EOF'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1])]
def median(name, conns, column):
    return statistics.median(float(r[column]) for r in rows if r[1] == name and int(r[2]) == conns)
def bad(name, conns):
    return sum(int(r[6]) for r in rows if r[1] == name and int(r[2]) == conns)
print()
print("Medians over rounds; ratio = CnnService / baseline. Goal: req/s ratio >= 1.2 with p99 ratio <= 1.")
print("CPU us/req: the server process's CPU time (all its threads, spinning ones too) per answered request.")
print(f"{'conns':>5} | {'CnnService req/s':>16} {'p99 ms':>7} {'CPU us/req':>10} | {'baseline req/s':>14} {'p99 ms':>7} {'CPU us/req':>10} | {'req/s ratio':>11} {'p99 ratio':>9} | goal    | non-2xx")
for conns in (1, 32):
    c_rps, c_p99, c_cpu = median("cnn", conns, 3), median("cnn", conns, 5), median("cnn", conns, 7)
    b_rps, b_p99, b_cpu = median("baseline", conns, 3), median("baseline", conns, 5), median("baseline", conns, 7)
    met = "met" if c_rps >= 1.2 * b_rps and c_p99 <= b_p99 else "not met"
    print(f"{conns:>5} | {c_rps:>16,.0f} {c_p99:>7.1f} {c_cpu:>10.0f} | {b_rps:>14,.0f} {b_p99:>7.1f} {b_cpu:>10.0f} | {c_rps / b_rps:>10.2f}x {c_p99 / b_p99:>9.2f} | {met:<7} | {bad('cnn', conns)} / {bad('baseline', conns)}")
EOF
echo "# RSS at the end: CnnService $(( $(ps -o rss= -p "$cnn_pid") / 1024 )) MB, baseline $(( $(ps -o rss= -p "$base_pid") / 1024 )) MB"
