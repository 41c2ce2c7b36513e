#!/usr/bin/env bash
# Writes the ONNX fixtures (scripts/make-onnx-models.py: the seed nets and nine torchvision nets, random
# weights from fixed seeds, manifest.json) to OUT_DIR, by default the git-ignored data/onnx/. Skips the work
# when OUT_DIR/manifest.json was written by this very script (same SHA-256), lists no failed export, and every
# file it lists is there.
# Needs Debian's /usr/bin/python3 with python3-torch, python3-torchvision and python3-onnx (one to three minutes on 2 cores; 325 MB).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-$root/data/onnx}"
python=/usr/bin/python3
script="$root/scripts/make-onnx-models.py"

if ! "$python" -c "import torch, torchvision, onnx" 2>/dev/null; then
    echo "make-onnx-models: $python cannot import torch, torchvision and onnx (apt-get install python3-torch python3-torchvision python3-onnx)" >&2
    exit 1
fi

hash=$(sha256sum "$script" | cut -d' ' -f1)
if "$python" - "$out" "$hash" <<'PY'
import json, os, sys
out, expected = sys.argv[1], sys.argv[2]
try:
    manifest = json.load(open(os.path.join(out, "manifest.json")))
except (OSError, ValueError):
    sys.exit(1)
ok = manifest.get("scriptSha256") == expected and not manifest.get("failures") and all(os.path.isfile(os.path.join(out, m["path"])) for m in manifest["models"])
sys.exit(0 if ok else 1)
PY
then
    echo "make-onnx-models: $out is up to date (manifest.json from this script, sha256 ${hash:0:12})"
    exit 0
fi

echo "make-onnx-models: writing $out"
mkdir -p "$out"
"$python" "$script" "$out"
