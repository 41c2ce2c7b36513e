#!/usr/bin/env bash
# container-test.sh: prove the real Dockerfile in CI. Run as root from anywhere; .ci/run calls it.
#   1. installs podman, runc and yamllint with apt-get when missing
#   2. lints docker/compose.yaml and docker/k8s/*.yaml (.yamllint)
#   3. ../shared/container/container-smoke.sh: builds the image, runs it, waits for /health/ready, checks
#      it is not root, runs its HEALTHCHECK, stops it with SIGTERM and checks the exit code
#   4. runs the image again, POSTs real digit photos (tests/fixtures/images) and checks the labels,
#      then checks that SIGTERM stops it cleanly
# Env: SMOKE_SCRIPT (default ../shared/container/container-smoke.sh beside the repository),
#      PORT (18080), IMAGE (localhost/cnnservice:ci), TIMEOUT (120 s for the service to become ready)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
SMOKE_SCRIPT=${SMOKE_SCRIPT:-$root/../shared/container/container-smoke.sh}
PORT=${PORT:-18080}
export IMAGE=${IMAGE:-localhost/cnnservice:ci} TIMEOUT=${TIMEOUT:-120}
PODMAN=(podman --runtime runc)   # crun fails on these machines' cgroups
export DISABLE_HC_SYSTEMD=true
name=cnnservice-test-$$

log() { printf '[container-test %s] %s\n' "$(date +%T)" "$*" >&2; }
fail() { log "FAIL: $*"; podman logs --tail 50 "$name" >&2 2>/dev/null || true; exit 1; }
work=$(mktemp -d -t cnn-container-test-XXXXXX)
trap 'podman rm --force --volumes --time 0 "$name" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

[[ $(id -u) == 0 ]] || fail "run as root (rootful podman)"
[[ -x $SMOKE_SCRIPT ]] || fail "no smoke script at $SMOKE_SCRIPT"

missing=()
for tool in podman runc yamllint; do command -v "$tool" >/dev/null || missing+=("$tool"); done
if ((${#missing[@]})); then
    log "installing ${missing[*]} with apt-get"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman runc yamllint >/dev/null
fi

log "yamllint docker/"
(cd "$root" && yamllint --strict docker/)

start=$SECONDS
"$SMOKE_SCRIPT" "$root" "$PORT" /health/ready
log "smoke test passed in $((SECONDS - start)) s; image size: $(podman image inspect --format '{{.Size}}' "$IMAGE" | numfmt --to=si)"

log "running $IMAGE again to predict real digit photos"
"${PODMAN[@]}" run --detach --name "$name" --publish "127.0.0.1:$PORT:8080" "$IMAGE" >/dev/null
base=http://127.0.0.1:$PORT
start=$SECONDS
until curl --fail --silent --max-time 5 "$base/health/ready" >/dev/null; do
    [[ $(podman inspect --format '{{.State.Status}}' "$name") == running ]] || fail "container exited before it was ready"
    ((SECONDS - start < TIMEOUT)) || fail "not ready within $TIMEOUT s"
    sleep 1
done

predict() {   # predict FILE EXPECTED: POST the image as multipart, compare the top label
    local file=$root/tests/fixtures/images/$1 expected=$2 body label
    body=$(curl --fail-with-body --silent --show-error --max-time 30 -F "file=@$file" "$base/v1/models/mnist/predict") ||
        fail "POST $1: $body"
    # The first "label" in the answer is the top prediction's: {"predictions":[{"top":[{"index":7,"label":"7",...
    label=$(grep -oE '"label":"[^"]*"' <<<"$body" | head -n 1 | cut -d'"' -f4)
    [[ -n $label ]] || fail "POST $1: unexpected answer $body"
    [[ $label == "$expected" ]] || fail "POST $1: label $label, expected $expected ($body)"
    log "POST $1 -> label $label (expected $expected): OK"
}
predict photo-7.gif 7
predict photo-0.png 0

# The explain page and API: the page is in the image, and activation maps render (SkiaSharp encodes PNGs in the container).
# Whole answers first, then looked into: with pipefail, `curl | grep -q` fails whenever grep has its match and exits
# while curl still writes (a body that arrives in two pieces), a race the busy CI machine loses now and then.
page=$(curl --fail-with-body --silent --show-error --max-time 30 "$base/") || fail "GET /: $page"
grep -q 'id="draw-canvas"' <<<"$page" || fail "GET / does not serve the explain page: ${page:0:300}"
body=$(curl --fail-with-body --silent --show-error --max-time 30 -H "Content-Type: image/png" \
    --data-binary "@$root/models/mnist/samples/digit-7.png" "$base/v1/models/mnist/explain?layer=conv1") || fail "POST explain: $body"
grep -q '"maps":\["iVBORw0KGgo' <<<"$body" || fail "POST explain: no PNG activation maps in ${body:0:300}"
curl --fail --silent --show-error --max-time 30 -o "$work/conv1.png" "$base/v1/models/mnist/filters/conv1.png" || fail "GET filters/conv1.png failed"
[[ $(head -c 8 "$work/conv1.png" | od -A n -t x1 | tr -d ' \n') == 89504e470d0a1a0a ]] || fail "GET filters/conv1.png is not a PNG"
log "GET / (page), POST explain (maps), GET filters/conv1.png: OK"

podman stop --time 10 "$name" >/dev/null
code=$(podman inspect --format '{{.State.ExitCode}}' "$name")
[[ $code == 0 || $code == 143 ]] || fail "container did not stop cleanly on SIGTERM (exit $code)"
podman logs --tail 5 "$name" >&2 2>/dev/null || true
log "stopped cleanly on SIGTERM (exit $code); container test OK"
