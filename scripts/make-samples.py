#!/usr/bin/env python3
"""Writes models/<name>/samples/: the first test image of each class of MNIST and Fashion-MNIST as
28x28 PNGs, with samples.json naming their true labels, plus two of the photo fixtures for mnist
(its model.json asks for MNIST preprocessing, so photos of digits work). Standard library only.
Needs the datasets in data/ (scripts/fetch-data.sh mnist fashion-mnist)."""
import gzip, json, os, shutil, struct, sys, zlib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    magic, = struct.unpack(">I", data[:4])
    dims = [struct.unpack(">I", data[4 + 4 * i:8 + 4 * i])[0] for i in range(magic & 0xFF)]
    return dims, data[4 + 4 * len(dims):]


def find(folder, name):
    for candidate in (name, name + ".gz"):
        path = os.path.join(ROOT, "data", folder, candidate)
        if os.path.exists(path):
            return path
    sys.exit(f"data/{folder}/{name}[.gz] is missing: run scripts/fetch-data.sh first")


def png(width, height, gray):
    rows = b"".join(b"\x00" + gray[y * width:(y + 1) * width] for y in range(height))
    chunk = lambda kind, body: struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b""))


def write(dataset, model, slug, extra=()):
    labels = json.load(open(os.path.join(ROOT, "models", model, "1", "model.json")))["labels"]
    (count, h, w), images = read_idx(find(dataset, "t10k-images-idx3-ubyte"))
    _, classes = read_idx(find(dataset, "t10k-labels-idx1-ubyte"))
    out = os.path.join(ROOT, "models", model, "samples")
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    samples = []
    for label in range(len(labels)):
        index = classes.index(label)
        name = f"{slug(labels[label])}.png"
        with open(os.path.join(out, name), "wb") as f:
            f.write(png(w, h, images[index * h * w:(index + 1) * h * w]))
        samples.append({"file": name, "label": labels[label], "source": f"{dataset} t10k image {index}"})
    for fixture, label in extra:
        shutil.copy(os.path.join(ROOT, "tests", "fixtures", "images", fixture), os.path.join(out, fixture))
        samples.append({"file": fixture, "label": label, "source": f"tests/fixtures/images/{fixture}"})
    with open(os.path.join(out, "samples.json"), "w") as f:
        json.dump({"samples": samples}, f, indent=2)
        f.write("\n")


write("mnist", "mnist", lambda label: f"digit-{label}", extra=[("photo-1.jpg", "1"), ("photo-6.webp", "6")])
write("fashion-mnist", "fashion-mnist", lambda label: "".join(c if c.isalnum() else "-" for c in label.lower()))
