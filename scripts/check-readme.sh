#!/usr/bin/env bash
# Runs every ```bash block of README.md as written, in order, from the repository root, and fails if
# any block fails: the README may name no file that does not exist and no command that does not work.
# Usage: scripts/check-readme.sh [README]   (default README.md; .ci/run runs it after the tests)
#
# The rules:
# - A block runs in its own `bash -e -o pipefail`, so any failing command fails it, with at most
#   BLOCK_SECONDS (600) to finish. Its output goes to a log, shown when it fails.
# - curl answers 4xx/5xx fail the block: inside blocks curl is `curl --fail-with-body -sS` (then a newline).
# - A block that mentions localhost:5000 gets the service: the first such block starts it in the background
#   (`dotnet run --project src/CnnService`, as the README's set-up does) and waits for /health/ready; it
#   serves a scratch copy of models/ and keeps its train jobs in a scratch folder, so the checkout's models
#   stay as they are. It is stopped at the end. Port 5000 must be free.
# - An HTML comment on the line right before a block's fence changes how it runs:
#     <!-- readme-check: starts-service -->
#         the block starts the service in the foreground: it passes once localhost:5000/health/ready
#         answers 200 (within BLOCK_SECONDS); then it is stopped.
#     <!-- readme-check: runs-for N until REGEX -->
#         the block may run for long (training, benchmarks): it passes if it exits 0 within N seconds, or
#         prints a line matching REGEX (grep -E) within N seconds, after which it is stopped (SIGTERM).
#     <!-- readme-check: http-errors-ok -->
#         the block shows error answers on purpose: curl is not made to fail on them.
#     <!-- readme-check: skip REASON -->
#         not run; REASON must say what runs it instead or what it needs that CI has not (a cluster).
# - Files the blocks leave in the checkout (`curl -o`, a stopped training's checkpoint) are removed at the
#   end: new untracked files at the top of the checkout, and new files (ignored ones too) under models/.
#   Fetched datasets (data/, git-ignored) stay.
set -euo pipefail
cd "$(dirname "$0")/.."
readme=${1:-README.md}
BLOCK_SECONDS=${BLOCK_SECONDS:-600}

work=$(mktemp -d)
service_pgid=""
say() { echo "check-readme: $*"; }

untracked() { { git ls-files -o --exclude-standard; git ls-files -o -i --exclude-standard -- models; } | sort -u; }
untracked > "$work/before"

# Stops a process group started with setsid: SIGTERM, then SIGKILL after 30 s.
stop_group() {
    local pgid=$1 i
    kill -TERM -- "-$pgid" 2>/dev/null || return 0
    for ((i = 0; i < 30; i++)); do
        kill -0 -- "-$pgid" 2>/dev/null || return 0
        sleep 1
    done
    kill -KILL -- "-$pgid" 2>/dev/null || true
}

port_taken() { (exec 3<>/dev/tcp/127.0.0.1/5000) 2>/dev/null; }
ready() { curl -sf -o /dev/null --max-time 5 http://localhost:5000/health/ready; }

cleanup() {
    [[ -n $service_pgid ]] && stop_group "$service_pgid"
    untracked > "$work/after"
    comm -13 "$work/before" "$work/after" | { grep -E '^(models/|[^/]+$)' || true; } | while IFS= read -r file; do
        say "removing $file, which a block left behind"
        rm -f -- "$file"
    done
    find models -mindepth 1 -type d -empty -delete 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
trap "exit 130" INT
trap "exit 143" TERM

# Waits until the service answers ready, or the process $1 ends, or BLOCK_SECONDS pass.
wait_ready() {
    local pid=$1 start=$SECONDS
    while ((SECONDS - start < BLOCK_SECONDS)); do
        ready && return 0
        kill -0 "$pid" 2>/dev/null || return 1
        sleep 1
    done
    return 1
}

start_service() {
    port_taken && { say "port 5000 is already in use: stop what listens there first"; return 1; }
    mkdir -p "$work/service"
    cp -r models "$work/service/models"
    say "starting the service in the background (models: a scratch copy)"
    Models__Root="$work/service/models" Jobs__Root="$work/service/jobs" \
        setsid dotnet run --project src/CnnService > "$work/service.log" 2>&1 &
    service_pgid=$!
    if ! wait_ready "$service_pgid"; then
        tail -n 30 "$work/service.log"
        say "the service did not become ready"
        return 1
    fi
}

# The text of each block into $work/N.sh, with its first line number and mode in $work/blocks.
extract() {
    local n=0 line number=0 inside=0 mode="" previous=""
    while IFS= read -r line || [[ -n $line ]]; do
        number=$((number + 1))
        if ((inside)); then
            if [[ $line == '```' ]]; then inside=0; else printf '%s\n' "$line" >> "$work/$n.sh"; fi
        elif [[ $line == '```bash' ]]; then
            n=$((n + 1)); inside=1; mode=""
            if [[ $previous =~ ^\<!--\ readme-check:\ (.*)\ --\>$ ]]; then mode=${BASH_REMATCH[1]}; fi
            : > "$work/$n.sh"
            printf '%s\t%s\t%s\n' "$n" "$((number + 1))" "$mode" >> "$work/blocks"
        fi
        previous=$line
    done < "$readme"
}

# Runs block $1 in the background in its own process group; its pid (= group id) in $block_pid.
spawn() {
    local file=$1 prelude=$2
    : > "$file.log"   # there before the block writes, for whoever reads it meanwhile
    setsid bash -e -o pipefail -c "$prelude"$'\n'"$(cat "$file")" > "$file.log" 2>&1 &
    block_pid=$!
}

# Runs one block by its mode; returns its status.
run_block() {
    # curl quietly (no progress meter) and ending its answer with a newline, so an error gets its own log line.
    local file=$1 mode=$2 fail='--fail-with-body'
    [[ $mode == http-errors-ok ]] && fail=''
    local prelude="curl() { local rc=0; command curl $fail -sS \"\$@\" || rc=\$?; echo; return \$rc; }"
    case $mode in
        starts-service)
            [[ -n $service_pgid ]] && { stop_group "$service_pgid"; service_pgid=""; }
            port_taken && { echo "port 5000 is already in use" > "$file.log"; return 1; }
            spawn "$file" "$prelude"
            local ok=0
            wait_ready "$block_pid" || ok=1
            stop_group "$block_pid"
            return $ok
            ;;
        runs-for\ *)
            [[ $mode =~ ^runs-for\ ([0-9]+)\ until\ (.+)$ ]] || { echo "malformed: runs-for N until REGEX" > "$file.log"; return 1; }
            local seconds=${BASH_REMATCH[1]} pattern=${BASH_REMATCH[2]} start=$SECONDS
            spawn "$file" "$prelude"
            while ((SECONDS - start < seconds)); do
                if grep -Eq -- "$pattern" "$file.log"; then stop_group "$block_pid"; return 0; fi
                if ! kill -0 "$block_pid" 2>/dev/null; then wait "$block_pid"; return; fi
                sleep 1
            done
            stop_group "$block_pid"
            echo "check-readme: no line matching '$pattern' within $seconds s" >> "$file.log"
            return 1
            ;;
        "" | http-errors-ok)
            if grep -q 'localhost:5000' "$file" && [[ -z $service_pgid ]]; then start_service || return 1; fi
            spawn "$file" "$prelude"
            local deadline=$((SECONDS + BLOCK_SECONDS))
            while kill -0 "$block_pid" 2>/dev/null; do
                if ((SECONDS >= deadline)); then
                    stop_group "$block_pid"
                    echo "check-readme: still running after $BLOCK_SECONDS s" >> "$file.log"
                    return 1
                fi
                sleep 1
            done
            wait "$block_pid"
            ;;
        *)
            echo "unknown readme-check mode '$mode'" > "$file.log"
            return 1
            ;;
    esac
}

extract
failed=0 passed=0 skipped=0 total_start=$SECONDS
while IFS=$'\t' read -r n line mode; do
    if [[ $mode =~ ^skip\ (.+)$ ]]; then
        say "skip  $readme:$line (${BASH_REMATCH[1]})"
        skipped=$((skipped + 1))
        continue
    elif [[ $mode == skip* ]]; then
        say "FAIL  $readme:$line: a skipped block must say why (<!-- readme-check: skip REASON -->)"
        failed=$((failed + 1))
        continue
    fi
    start=$SECONDS
    if run_block "$work/$n.sh" "$mode"; then
        say "ok    $readme:$line${mode:+ [$mode]} ($((SECONDS - start)) s)"
        passed=$((passed + 1))
    else
        say "FAIL  $readme:$line${mode:+ [$mode]} ($((SECONDS - start)) s):"
        sed 's/^/    | /' "$work/$n.sh"
        echo "    output (last 25 lines):"
        tail -n 25 "$work/$n.sh.log" | cut -c1-400 | sed 's/^/    > /'
        failed=$((failed + 1))
    fi
done < "$work/blocks"

# Not "N passed, N failed": CI reads that form as the run's test count, which is the test suite's line.
say "$passed blocks ran as written, $failed failed, $skipped skipped, in $((SECONDS - total_start)) s"
((failed == 0))
