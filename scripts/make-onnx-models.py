#!/usr/bin/python3
"""Writes the ONNX fixtures for the importer's parity tests (run it through scripts/make-onnx-models.sh).

OUT_DIR/seeds/{name}-opset{9,13,17}.onnx        the nets of src/CnnService.Engine/Runtime/Architectures.cs
OUT_DIR/torchvision/{name}-opset13.onnx          torchvision 0.14 architectures, constant folding on (the default)
OUT_DIR/torchvision/{name}-opset{9,17}.onnx      three of them again, unfused: constant folding off and
                                                 TrainingMode.PRESERVE on the eval()-mode net, so the BatchNormalization
                                                 nodes stay standalone (the default EVAL export folds every BatchNorm
                                                 into the Conv before it, folding or not) and the Shape/Gather/
                                                 Unsqueeze/Concat chains before Reshape stay too. shufflenet_v2_x0_5 is
                                                 at opset 11 instead of 9 (see UNFUSED)
OUT_DIR/manifest.json                            every file: id, path, opset, input [C,H,W], outputs, op types, hashes

All weights are random from fixed seeds (no downloads); every BatchNorm gets statistics far from the identity (measured
on random images, then perturbed at random: see randomise_batchnorms), so a runtime that skipped one would fail
parity. Every file has a dynamic batch axis ('input' and 'output', axis 0).
Each manifest entry also carries torch's own output for one deterministic image (see probe_image), so the tests
can check that ONNX Runtime, and later the engine, reproduce the net itself and not only each other.

Needs Debian's python3-torch (1.13), python3-torchvision (0.14) and python3-onnx. Usage: make-onnx-models.py OUT_DIR
"""
import hashlib, json, os, sys, time, zlib

import numpy as np
import onnx
import torch
import torch.nn as nn
import torchvision
import torchvision.models as tvm

SEED_OPSETS = (9, 13, 17)
TORCHVISION_OPSET = 13
# Exported again unfused (see the docstring), at these opsets. torch 1.13 cannot export shufflenet_v2_x0_5 with a
# dynamic batch below opset 11: its channel split (x.chunk after the channel shuffle's view) becomes
# prim::ConstantChunk, which opsets 9 and 10 only support for a dimension known at export time.
UNFUSED = {"resnet18": (9, 17), "mobilenet_v2": (9, 17), "shufflenet_v2_x0_5": (11, 17)}


# The seeds, layer for layer as Architectures.cs defines them (valid convolutions unless padded; pools of
# stride = kernel; a softmax at the end, which the engine's specs include).
def keras_mnist():
    return nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(32 * 13 * 13, 100), nn.ReLU(), nn.Linear(100, 10), nn.Softmax(dim=1))


def lenet5():
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.Tanh(), nn.AvgPool2d(2),
        nn.Conv2d(6, 16, 5), nn.Tanh(), nn.AvgPool2d(2), nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120), nn.Tanh(), nn.Linear(120, 84), nn.Tanh(), nn.Linear(84, 10), nn.Softmax(dim=1))


def tinyvgg():
    return nn.Sequential(
        nn.Conv2d(3, 10, 3), nn.ReLU(), nn.Conv2d(10, 10, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(10, 10, 3), nn.ReLU(), nn.Conv2d(10, 10, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(10 * 13 * 13, 10), nn.Softmax(dim=1))


SEEDS = {"keras-mnist": (keras_mnist, (1, 28, 28)), "lenet5": (lenet5, (1, 28, 28)), "tinyvgg": (tinyvgg, (3, 64, 64))}

TORCHVISION = {
    "resnet18": lambda: tvm.resnet18(weights=None),
    "mobilenet_v2": lambda: tvm.mobilenet_v2(weights=None),
    "mobilenet_v3_small": lambda: tvm.mobilenet_v3_small(weights=None),
    "squeezenet1_1": lambda: tvm.squeezenet1_1(weights=None),
    "shufflenet_v2_x0_5": lambda: tvm.shufflenet_v2_x0_5(weights=None),
    "densenet121": lambda: tvm.densenet121(weights=None),
    "googlenet": lambda: tvm.googlenet(weights=None, aux_logits=False, init_weights=True),
    "efficientnet_b0": lambda: tvm.efficientnet_b0(weights=None),
    "regnet_x_400mf": lambda: tvm.regnet_x_400mf(weights=None),
}


def seed_of(name):
    """A seed per net, from its name: each net's weights stay the same when nets are added or reordered."""
    return zlib.crc32(name.encode())


def randomise_batchnorms(model, seed):
    """Gives every BatchNorm statistics of its own, far from the identity, that still carry the image through.

    Purely random statistics (mean and variance unrelated to the activations) drown the signal in deep nets: with
    them mobilenet_v2/v3, shufflenet, googlenet and efficientnet_b0 gave the same output, to 1e-7, for any input,
    which would make a parity test pass for almost any runtime. So the statistics are first measured (BatchNorms in
    train mode, cumulative average) on eight seeded smooth random images, then perturbed at random: variance times
    [0.5, 2], mean plus [-0.2, 0.2] standard deviations, scale in [0.5, 1.5], shift in [-0.2, 0.2]."""
    g = torch.Generator().manual_seed(seed)
    uniform = lambda t, lo, hi: lo + (hi - lo) * torch.rand(t.shape, generator=g)
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    model.eval()  # dropout and stochastic depth off while measuring: measured with them, efficientnet_b0 lost 3 digits
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # a plain average over the calibration batch
        m.train()
    with torch.no_grad():
        model(smooth_images(8, 224, g))
        for m in norms:
            std = m.running_var.sqrt()
            m.running_mean.add_(uniform(m.running_mean, -0.2, 0.2) * std)
            m.running_var.mul_(uniform(m.running_var, 0.5, 2.0))
            m.weight.copy_(uniform(m.weight, 0.5, 1.5))
            m.bias.copy_(uniform(m.bias, -0.2, 0.2))
    return model.eval()


def smooth_images(count, size, generator):
    """Random 3x28x28 images in [-1, 1], bilinearly upsampled: unlike per-pixel noise, they differ after pooling."""
    small = torch.rand(count, 3, 28, 28, generator=generator) * 2 - 1
    return nn.functional.interpolate(small, size=size, mode="bilinear", align_corners=False)


def probe_image(shape):
    """A deterministic image in [-1, 1): x[i] = frac(i * 2654435761 / 2^32) * 2 - 1 over the flat C*H*W index.
    The tests compute the same values (OnnxModels.ProbeImage) instead of reading them from disk."""
    n = int(np.prod(shape))
    bits = (np.arange(n, dtype=np.uint64) * np.uint64(2654435761)) & np.uint64(0xFFFFFFFF)
    return (bits.astype(np.float64) / 4294967296.0 * 2.0 - 1.0).astype(np.float32).reshape(shape)


def op_counts(path):
    counts = {}
    for node in onnx.load(path).graph.node:
        counts[node.op_type] = counts.get(node.op_type, 0) + 1
    return dict(sorted(counts.items()))


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def export(model, family, name, input_shape, opset, fused, out_dir, script_hash):
    rel = f"{family}/{name}-opset{opset}.onnx"
    path = os.path.join(out_dir, rel)
    dummy = torch.from_numpy(probe_image(input_shape))[None]
    started = time.monotonic()
    with torch.no_grad():
        reference = model(dummy)[0]
        torch.onnx.export(
            model, dummy, path, opset_version=opset, do_constant_folding=fused,
            training=torch.onnx.TrainingMode.EVAL if fused else torch.onnx.TrainingMode.PRESERVE,
            input_names=["input"], output_names=["output"],
            dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})
    onnx.checker.check_model(onnx.load(path))
    proto = onnx.load(path)
    counts = op_counts(path)
    entry = {
        "id": rel[:-len(".onnx")],
        "name": name,
        "family": family,
        "path": rel,
        "opset": opset,
        "fused": fused,  # EVAL export with constant folding; false: no folding, BatchNorms kept (PRESERVE, eval())
        "input": list(input_shape),
        "outputs": int(reference.numel()),
        "graphOutputs": len(proto.graph.output),
        "opTypes": sorted(counts),
        "opCounts": counts,
        "bytes": os.path.getsize(path),
        "sha256": sha256(path),
        "scriptSha256": script_hash,
        "torchOutput": [float(v) for v in reference.numpy()],
    }
    print(f"  {rel}: {entry['bytes'] / 1e6:.1f} MB, {sum(counts.values())} nodes, {time.monotonic() - started:.1f} s", flush=True)
    return entry


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: make-onnx-models.py OUT_DIR")
    out_dir = sys.argv[1]
    script_hash = sha256(os.path.abspath(__file__))
    for family in ("seeds", "torchvision"):
        os.makedirs(os.path.join(out_dir, family), exist_ok=True)
    manifest_path = os.path.join(out_dir, "manifest.json")
    if os.path.exists(manifest_path):
        os.remove(manifest_path)  # written last: a manifest means a complete set
    torch.set_num_threads(1)
    started = time.monotonic()
    entries, failures = [], []

    for name, (make, shape) in SEEDS.items():
        torch.manual_seed(seed_of(name))
        model = make().eval()
        for opset in SEED_OPSETS:
            entries.append(export(model, "seeds", name, shape, opset, True, out_dir, script_hash))

    for name, make in TORCHVISION.items():
        torch.manual_seed(seed_of(name))
        model = randomise_batchnorms(make(), seed_of(name) + 1).eval()
        for opset, fused in [(TORCHVISION_OPSET, True)] + [(o, False) for o in UNFUSED.get(name, ())]:
            try:
                entries.append(export(model, "torchvision", name, (3, 224, 224), opset, fused, out_dir, script_hash))
            except Exception as e:  # one export that fails must not cost the others; the manifest says which
                message = f"{type(e).__name__}: {str(e).splitlines()[0]}"
                print(f"  {name} opset {opset}: FAILED: {message}", flush=True)
                failures.append({"name": name, "opset": opset, "error": message})

    manifest = {
        "scriptSha256": script_hash,
        "torch": torch.__version__, "torchvision": torchvision.__version__, "onnx": onnx.__version__,
        "probeImage": "x[i] = frac(i * 2654435761 / 2^32) * 2 - 1 over the flat C*H*W index (float64, then float32)",
        "models": entries,
        "failures": failures,
    }
    with open(manifest_path + ".tmp", "w") as f:
        json.dump(manifest, f, indent=1)
    os.replace(manifest_path + ".tmp", manifest_path)
    total = sum(e["bytes"] for e in entries)
    print(f"{len(entries)} models, {total / 1e6:.1f} MB, {len(failures)} failed, in {time.monotonic() - started:.0f} s")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
