#!/usr/bin/env bash
# Rebuilds tests/fixtures/images/ from tests/fixtures/mnist-small: photo-like MNIST digits in every
# accepted format (one JPEG with EXIF orientation 6), an RGBA PNG, and hostile files (truncated PNG,
# a PNG header claiming 100000 x 100000, a GIF bomb, random bytes). The generator is a test that
# only runs with CNN_MAKE_IMAGE_FIXTURES=1 (tests/CnnService.Tests/Imaging/Support/ImageFixtureMaker.cs).
# See tests/fixtures/README.md.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
CNN_MAKE_IMAGE_FIXTURES=1 dotnet test tests/CnnService.Tests --nologo -v quiet --filter "FullyQualifiedName~ImageFixtureMaker"
ls -l tests/fixtures/images
