# Sourced by the load and benchmark scripts (load-test.sh, bench-protocols.sh, bench-serving.sh): free loopback
# ports, a published server started from its own folder and waited for, and hey's report read into one line.
# The caller sets `work` (its temp folder, where server logs go) and kills the pids in `bench_pids` on exit.

bench_pids=()

# free_ports N: N distinct free 127.0.0.1 ports, held at the same time so no two are the same, on one line.
free_ports() {
  python3 -c 'import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks: s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in socks))' "$1"
}

# start_server NAME DIR DLL URL READY_PATH ARGS...: runs DIR/DLL from DIR (its content root, where appsettings.json
# is read) on URL, logging to $work/NAME.log, and waits up to 120 s until URL+READY_PATH answers. Sets started_pid.
start_server() {
  local name="$1" dir="$2" dll="$3" url="$4" ready="$5" pid
  shift 5
  (cd "$dir" && ASPNETCORE_ENVIRONMENT=Production exec dotnet "$dll" --urls "$url" "$@" >"$work/$name.log" 2>&1) &
  pid=$!
  bench_pids+=("$pid")
  for _ in $(seq 1 240); do
    curl -fs "$url$ready" >/dev/null 2>&1 && break
    kill -0 "$pid" 2>/dev/null || { echo "$name exited while starting:" >&2; cat "$work/$name.log" >&2; exit 1; }
    sleep 0.5
  done
  curl -fs "$url$ready" >/dev/null || { echo "$name did not become ready in 120 s:" >&2; tail -50 "$work/$name.log" >&2; exit 1; }
  started_pid="$pid"
}

# stop_servers: for the caller's EXIT trap.
stop_servers() {
  local pid
  for pid in "${bench_pids[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
}

# hey_summary < HEY_OUTPUT: "req/s p50_ms p99_ms failed answered", failed counting non-2xx answers and errors,
# answered every answer and error; fails when the report has no rate (hey could not run).
hey_summary() {
  awk '
    /Requests\/sec:/ { rps = $2 }
    /^ +50% in/ { p50 = $3 * 1000 }
    /^ +99% in/ { p99 = $3 * 1000 }
    /^Status code distribution:/ { section = "status" }
    /^Error distribution:/ { section = "errors" }
    /^ +\[[0-9]+\]/ { n = $1; gsub(/[\[\]]/, "", n); count += (section == "errors") ? n : $2
                       if (section == "errors") bad += n; else if (n !~ /^2/) bad += $2 }
    END { if (rps == "") exit 1; printf "%.1f %.2f %.2f %d %d\n", rps, p50, p99, bad, count }'
}

# host_line: the CPU model, the core count and the date, for every printed figure.
host_line() { echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) CPUs"; }

# cpu_ticks PID: the user and system CPU time PID has used so far, in clock ticks (getconf CLK_TCK a second).
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
