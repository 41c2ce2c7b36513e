#!/usr/bin/env python3
"""libtorch reference for one epoch of the Keras MNIST example (batch 32, Adam), beside `cnn train`.

Network: conv 1->32 3x3 -> relu -> maxpool 2 -> flatten -> dense 100 -> relu -> dense 10, softmax
cross-entropy, pixels / 255, batch 32, one pass over the 60,000 training images.

  independent --seeds 1 2 3   PyTorch as its users write it: its own initialisation (or, with --init glorot,
                              Keras's, as `cnn train --init glorot`), torch.randperm
                              order, torch.optim.Adam (lr 1e-3; --adam keras for the engine's form; --normalize
                              for PyTorch's MNIST mean and std on top of / 255). Prints each seed's test accuracy and
                              seconds per epoch, then the mean: the distribution to compare
                              `cnn train --arch keras-mnist --data mnist --epochs 1 --seed S` against.
  matched --seed S --cnn CMD  One shared start: PyTorch initialises the weights and writes them to a
                              safetensors file; `CMD train ... --init-from FILE --threads 1` trains the
                              engine from it, and PyTorch trains from it too, in the engine's batch order
                              (its SplitMix64 shuffle, re-implemented below) with Adam in the engine's
                              Keras form (epsilon 1e-7 outside the bias correction). Prints both running
                              losses at every tenth of the epoch, and both test accuracies.

Needs Debian's python3-torch (apt-get install python3-torch; it is libtorch 1.13 underneath) and the
data from scripts/fetch-data.sh (or MNIST_DIR). Not part of the tests: about a minute per run.
CMD is how to start the CLI, e.g. "dotnet src/CnnService.Cli/bin/Release/net10.0/cnn.dll".
"""
import argparse
import gzip
import json
import os
import shlex
import struct
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

DATA = os.environ.get("MNIST_DIR", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "data", "mnist"))
BATCH, LR = 32, 1e-3


def read_idx(name):
    path = os.path.join(DATA, name)
    raw = open(path, "rb").read() if os.path.exists(path) else gzip.open(path + ".gz", "rb").read()
    ndim = raw[3]
    dims = struct.unpack(">" + "I" * ndim, raw[4:4 + 4 * ndim])
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load(split, normalize=False):
    # The engine multiplies by the float32 1/255, as its model.json scale says; --normalize then takes
    # PyTorch's MNIST example's mean and std off, as a model.json with "mean": [0.1307], "std": [0.3081] does.
    images = read_idx(f"{split}-images-idx3-ubyte").astype(np.float32) * np.float32(1 / 255)
    if normalize:
        images = (images - np.float32(0.1307)) / np.float32(0.3081)
    labels = read_idx(f"{split}-labels-idx1-ubyte").astype(np.int64)
    return torch.from_numpy(images).unsqueeze(1), torch.from_numpy(labels)


def network():
    return nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(32 * 13 * 13, 100), nn.ReLU(), nn.Linear(100, 10))


NAMES = {0: "conv1", 4: "fc1", 6: "fc2"}  # the engine's keras-mnist layer names, PyTorch's tensor layouts


def accuracy(net, x, y):
    with torch.no_grad():
        return (net(x).argmax(1) == y).float().mean().item()


# ---------------------------------------------------------------- the engine's shuffle (Training/SplitMix64.cs)
MASK = (1 << 64) - 1


def mix(z):
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


def engine_order(n, seed, epoch=0, stream=1):
    state = mix((mix(seed ^ mix(stream)) + epoch) & MASK)
    order = list(range(n))
    for i in range(n - 1, 0, -1):
        state = (state + 0x9E3779B97F4A7C15) & MASK
        j = (((mix(state) >> 33) * (i + 1)) & MASK) >> 31
        order[i], order[j] = order[j], order[i]
    return order


def write_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        data = tensors[name].detach().contiguous().numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensors[name].shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


# ---------------------------------------------------------------- the two modes
class KerasAdam(torch.optim.Optimizer):
    """Adam in the engine's (and Keras's) form: w -= lr sqrt(1 - b2^t) / (1 - b1^t) m / (sqrt(v) + 1e-7)."""

    def __init__(self, params, lr=LR, betas=(0.9, 0.999), eps=1e-7):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps))
        self.t = 0

    @torch.no_grad()
    def step(self):
        self.t += 1
        for group in self.param_groups:
            (b1, b2), eps = group["betas"], group["eps"]
            size = group["lr"] * (1 - b2 ** self.t) ** 0.5 / (1 - b1 ** self.t)
            for p in group["params"]:
                state = self.state[p]
                if not state:
                    state["m"], state["v"] = torch.zeros_like(p), torch.zeros_like(p)
                m, v = state["m"], state["v"]
                m.mul_(b1).add_(p.grad, alpha=1 - b1)
                v.mul_(b2).addcmul_(p.grad, p.grad, value=1 - b2)
                p.sub_(size * m / (v.sqrt() + eps))


def independent(seeds, threads, init, adam, normalize):
    torch.set_num_threads(threads)
    (xtr, ytr), (xte, yte) = load("train", normalize), load("t10k", normalize)
    results = []
    for seed in seeds:
        torch.manual_seed(seed)
        net = network()
        if init == "glorot":  # Keras's initialisation: glorot_uniform weights, zero biases (`cnn train --init glorot`)
            for i in NAMES:
                nn.init.xavier_uniform_(net[i].weight)
                nn.init.zeros_(net[i].bias)
        opt = torch.optim.Adam(net.parameters(), lr=LR) if adam == "pytorch" else KerasAdam(net.parameters())
        start = time.time()
        perm = torch.randperm(len(ytr))
        for i in range(0, len(ytr), BATCH):
            b = perm[i:i + BATCH]
            opt.zero_grad()
            F.cross_entropy(net(xtr[b]), ytr[b]).backward()
            opt.step()
        seconds = time.time() - start
        results.append(accuracy(net, xte, yte))
        print(f"seed {seed}: test accuracy {results[-1] * 100:.2f} %, {seconds:.1f} s per epoch ({threads} threads)", flush=True)
    print(f"mean {np.mean(results) * 100:.2f} %, min {min(results) * 100:.2f} %, max {max(results) * 100:.2f} % over {len(results)} seeds")


def matched(seed, cnn):
    torch.set_num_threads(2)
    (xtr, ytr), (xte, yte) = load("train"), load("t10k")
    torch.manual_seed(seed)
    net = network()
    with tempfile.TemporaryDirectory() as temp:
        start = os.path.join(temp, "start.safetensors")
        write_safetensors(start, {f"{NAMES[i]}.{kind}": getattr(net[i], kind) for i in NAMES for kind in ("weight", "bias")})
        command = shlex.split(cnn) + ["train", "--arch", "keras-mnist", "--data", DATA, "--epochs", "1", "--batch-size", str(BATCH),
                                      "--seed", str(seed), "--threads", "1", "--init-from", start, "--out", os.path.join(temp, "m", "1")]
        engine = subprocess.run(command, capture_output=True, text=True)
        if engine.returncode != 0:
            sys.exit(f"cnn train failed:\n{engine.stderr}")
    engine_losses = [float(line.split("loss ")[1].split()[0]) for line in engine.stdout.splitlines() if line.startswith("epoch 1/1  step")]
    engine_accuracy = next(line for line in engine.stdout.splitlines() if line.startswith("test accuracy"))

    opt = KerasAdam(net.parameters())
    order = engine_order(len(ytr), seed)
    steps = (len(ytr) + BATCH - 1) // BATCH
    tenth = max(1, steps // 10)
    loss_sum, seen, report = 0.0, 0, 0
    print(f"seed {seed}, one shared start: running mean loss over the epoch so far")
    print(f"{'step':>6} {'cnn train':>10} {'libtorch':>10}")
    for step in range(steps):
        b = torch.tensor(order[step * BATCH:(step + 1) * BATCH])
        opt.zero_grad()
        loss = F.cross_entropy(net(xtr[b]), ytr[b])
        loss.backward()
        opt.step()
        loss_sum += loss.item() * len(b)
        seen += len(b)
        t = step + 1
        if t % tenth == 0 or t == steps:
            theirs = engine_losses[report] if report < len(engine_losses) else float("nan")
            report += 1
            print(f"{t:>6} {theirs:>10.4f} {loss_sum / seen:>10.4f}")
    print(f"cnn train: {engine_accuracy}")
    print(f"libtorch:  test accuracy {accuracy(net, xte, yte) * 100:.2f}% on 10,000 images")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="mode", required=True)
    ind = sub.add_parser("independent")
    ind.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4])
    ind.add_argument("--threads", type=int, default=2)
    ind.add_argument("--init", choices=["pytorch", "glorot"], default="pytorch")
    ind.add_argument("--adam", choices=["pytorch", "keras"], default="pytorch")
    ind.add_argument("--normalize", action="store_true", help="inputs (x/255 - 0.1307) / 0.3081, as PyTorch's MNIST example")
    mat = sub.add_parser("matched")
    mat.add_argument("--seed", type=int, default=1)
    mat.add_argument("--cnn", default="dotnet src/CnnService.Cli/bin/Release/net10.0/cnn.dll")
    args = parser.parse_args()
    if args.mode == "independent":
        independent(args.seeds, args.threads, args.init, args.adam, args.normalize)
    else:
        matched(args.seed, args.cnn)


if __name__ == "__main__":
    main()
