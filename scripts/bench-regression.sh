#!/usr/bin/env bash
# Old build against new build, alternated in one run, so a busy shared machine slows both alike.
#
#   scripts/bench-regression.sh [--rounds N] [--seconds S] [--epoch-rounds E] OLD_REF [NEW_REF]
#
# Builds `cnn` (Release) at OLD_REF and NEW_REF (default HEAD) in temporary worktrees, then runs
# `cnn bench --json` on the shipped models and the seeds' nets at batch 1 and 64 on 1 and 2 threads,
# ROUNDS times, old and new in turns (the first of each pair alternating), and prints per case the
# median images/s of each build and new/old. A run's images/s is its batch over its median batch time
# (p50), not batches over wall time: a neighbour's burst on a shared machine slows some batches and
# moves the mean far more than the median. With --epoch-rounds E > 0 it also times E pairs of one
# keras-mnist training epoch (batch 32, Adam, 2 threads; needs `scripts/fetch-data.sh mnist`).
# Raw rows go to bench-regression.tsv in the output folder ($OUT, default a temporary folder).
set -euo pipefail
ROUNDS=5 SECONDS_PER_RUN=2 EPOCH_ROUNDS=0
while [[ $# -gt 0 && $1 == --* ]]; do
  case $1 in
    --rounds) ROUNDS=$2; shift 2 ;;
    --seconds) SECONDS_PER_RUN=$2; shift 2 ;;
    --epoch-rounds) EPOCH_ROUNDS=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
[[ $# -ge 1 ]] || { sed -n 2,12p "$0"; exit 2; }
OLD_REF=$1 NEW_REF=${2:-HEAD}
REPO=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
OUT=${OUT:-$(mktemp -d)}
mkdir -p "$OUT"

label() { # --model DIR/NAME/VERSION -> NAME/VERSION; --arch NAME -> NAME
  case $1 in --model*) local d=${1#--model }; echo "$(basename "$(dirname "$d")")/$(basename "$d")" ;; *) echo "${1#--arch }" ;; esac
}
build() { # ref name
  local tree="$OUT/src-$2"
  rm -rf "$tree"; git -C "$REPO" worktree prune
  git -C "$REPO" worktree add --detach --quiet "$tree" "$1"
  dotnet build "$tree/src/CnnService.Cli" -c Release -o "$OUT/bin-$2" --nologo -v quiet >&2
}
cleanup() { for n in old new; do git -C "$REPO" worktree remove --force "$OUT/src-$n" 2>/dev/null || true; done; }
trap cleanup EXIT

echo "CPU: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; old $OLD_REF ($(git -C "$REPO" rev-parse --short "$OLD_REF")), new $NEW_REF ($(git -C "$REPO" rev-parse --short "$NEW_REF"))"
build "$OLD_REF" old
build "$NEW_REF" new
MODELS="$REPO/models"
rows="$OUT/bench-regression.tsv"
: > "$rows"

for r in $(seq 1 "$ROUNDS"); do
  for source in "--model $MODELS/mnist/2" "--model $MODELS/fashion-mnist/1" "--arch keras-mnist" "--arch lenet5" "--arch tinyvgg"; do
    for batch in 1 64; do
      for threads in 1 2; do
        order="old new"; (( r % 2 )) || order="new old"
        for which in $order; do
          # shellcheck disable=SC2086 # $source is two words on purpose
          ips=$(dotnet "$OUT/bin-$which/cnn.dll" bench $source --batch "$batch" --threads "$threads" --seconds "$SECONDS_PER_RUN" --warmup 0.5 --json \
            | python3 -c 'import json, sys; r = json.load(sys.stdin); print(r["batch"] * 1000 / r["latency_ms_p50"])')
          printf '%s\t%s\tb%s\tt%s\t%s\t%s\n' "$r" "$(label "$source")" "$batch" "$threads" "$which" "$ips" >> "$rows"
        done
      done
    done
  done
done

for r in $(seq 1 "$EPOCH_ROUNDS"); do
  order="old new"; (( r % 2 )) || order="new old"
  for which in $order; do
    model="$OUT/epoch-$which-$r"; rm -rf "$model" "$model.ckpt"
    start=$(date +%s.%N)
    dotnet "$OUT/bin-$which/cnn.dll" train --arch keras-mnist --data mnist --data-root "$REPO/data" --out "$model" \
      --epochs 1 --threads 2 --checkpoint-seconds 0 > "$model.log" 2>&1
    end=$(date +%s.%N)
    # A training epoch as a rate (epochs per hour), so the summary's new/old reads the same way: above 1 is faster.
    printf '%s\tepoch\tb32\tt2\t%s\t%s\n' "$r" "$which" "$(python3 -c "print(3600 / ($end - $start))")" >> "$rows"
  done
done

python3 - "$rows" <<'EOF'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    r, source, batch, threads, which, rate = line.split("\t")
    runs.setdefault((source, batch, threads), {}).setdefault(which, []).append(float(rate))
print(f"{'case':<34}{'old':>12}{'new':>12}{'new/old':>9}")
for (source, batch, threads), by in runs.items():
    old, new = statistics.median(by["old"]), statistics.median(by["new"])
    unit = "epochs/h" if source == "epoch" else "img/s"
    print(f"{source + ' ' + batch + ' ' + threads:<34}{old:>12.1f}{new:>12.1f}{new / old:>9.3f}  {unit}")
EOF
echo "rows: $rows"
