#!/usr/bin/env bash
# Rebuilds tests/fixtures/{mnist,fashion-mnist}-small from the datasets scripts/fetch-data.sh fetches:
# the first 2,000 training and the first 1,000 test images and labels of each, gzip-compressed,
# written by `cnn idx-head` (the engine's IdxWriter). See tests/fixtures/README.md.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
scripts/fetch-data.sh mnist fashion-mnist

dotnet build --nologo -v quiet src/CnnService.Cli
cnn=(dotnet src/CnnService.Cli/bin/Debug/net10.0/cnn.dll)

# make DATASET: data/DATASET/* (plain or .gz) -> tests/fixtures/DATASET-small/*.gz
make() {
    local dataset="$1" out="tests/fixtures/$1-small" name count source
    mkdir -p "$out"
    for name in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
        case "$name" in train-*) count=2000 ;; *) count=1000 ;; esac
        source="data/$dataset/$name"
        [[ -f "$source" ]] || source="$source.gz"
        "${cnn[@]}" idx-head --count "$count" "$source" "$out/$name.gz"
    done
}

make mnist
make fashion-mnist
