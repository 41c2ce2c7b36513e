#!/usr/bin/env python3
"""Writes the README's already-normalised example inputs for mnist into models/mnist/samples/:
  instances.json  a predict body {"instances": [1 x 28 x 28 array]}: MNIST test image 0 (a 7)
  digits.npy      a float32 [4, 1, 28, 28] array for `cnn predict`: MNIST test images 0-3 (7, 2, 1, 0)
Both are the pixels / 255, which is what the mnist models' input spec (scale 1/255, mean 0, std 1) makes
of an image. Read from the committed fixture tests/fixtures/mnist-small; standard library only.
NumPy writes the same array with np.save("digits.npy", x.astype("<f4"))."""
import gzip, json, os, struct

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
IMAGES = os.path.join(ROOT, "tests", "fixtures", "mnist-small", "t10k-images-idx3-ubyte.gz")
OUT = os.path.join(ROOT, "models", "mnist", "samples")


def images(count):
    with gzip.open(IMAGES, "rb") as f:
        data = f.read()
    _, n, h, w = struct.unpack(">IIII", data[:16])
    assert (h, w) == (28, 28) and n >= count
    return [[[data[16 + i * 784 + y * 28 + x] / 255 for x in range(28)] for y in range(28)] for i in range(count)]


def write_npy(path, items):
    # NPY format 1.0: magic, version, header length, a Python-literal header padded to 64 bytes, then the data.
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': (%d, 1, 28, 28), }" % len(items)
    header += " " * (63 - (10 + len(header)) % 64) + "\n"
    values = [v for item in items for row in item for v in row]
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode("latin1"))
        f.write(struct.pack("<%df" % len(values), *values))


def main():
    first = images(4)
    with open(os.path.join(OUT, "instances.json"), "w") as f:
        rows = ",\n".join("   [" + ",".join(f"{v:.4g}" for v in row) + "]" for row in first[0])
        f.write('{"instances": [[[\n' + rows + "\n]]]}\n")
    write_npy(os.path.join(OUT, "digits.npy"), first)
    print(f"wrote {OUT}/instances.json and digits.npy")


main()
