#!/usr/bin/env python3
"""Writes the ONNX files tests/CnnService.Engine.Tests/Onnx reads, into tests/fixtures/onnx/proto/.

Run with Debian's python (packages python3-onnx, python3-torch):  /usr/bin/python3 scripts/make-onnx-proto-fixtures.py
Each model is made with the reference onnx library (or exported by torch), so the tests check the
engine's own reader against files it did not write. Values are fixed or seeded: reruns give the same
tensors (torch's export may differ in node names between versions).
"""
import json
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "onnx", "proto")


def save(model, name):
    onnx.checker.check_model(model)
    onnx.save_model(model, os.path.join(OUT, name))


def typed_float_data():
    """Conv weights in float_data (typed, packed), a Reshape shape in int64_data, a symbolic batch dim."""
    w = helper.make_tensor("conv.weight", TensorProto.FLOAT, [2, 1, 3, 3], [i * 0.5 - 4 for i in range(18)])
    b = helper.make_tensor("conv.bias", TensorProto.FLOAT, [2], [0.25, -0.75])
    shape = helper.make_tensor("shape", TensorProto.INT64, [2], [-1, 18])
    conv = helper.make_node("Conv", ["x", "conv.weight", "conv.bias"], ["c"], name="conv",
                            kernel_shape=[3, 3], pads=[0, 0, 0, 0], strides=[1, 1], group=1)
    reshape = helper.make_node("Reshape", ["c", "shape"], ["y"], name="flatten")
    graph = helper.make_graph(
        [conv, reshape], "typed",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 1, 5, 5])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 18])],
        [w, b, shape])
    model = helper.make_model(graph, producer_name="make-onnx-proto-fixtures", opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 7
    helper.set_model_props(model, {"purpose": "typed float_data"})
    save(model, "typed_float_data.onnx")


def raw_data():
    """Gemm weights in raw_data, a Constant with a tensor attribute, FLOAT16/INT8/UINT8/BOOL in int32_data."""
    rng = np.random.default_rng(7)
    w = numpy_helper.from_array(rng.standard_normal((3, 4)).astype(np.float32), "fc.weight")  # raw_data
    b = numpy_helper.from_array(np.array([1.5, -2.0, 0.125], dtype=np.float32), "fc.bias")
    half = helper.make_tensor("half", TensorProto.FLOAT16, [3], [1.0, -0.5, 65504.0])  # helper stores the half bits in int32_data
    i8 = helper.make_tensor("i8", TensorProto.INT8, [4], [-128, -1, 0, 127])
    u8 = helper.make_tensor("u8", TensorProto.UINT8, [2, 2], [0, 1, 200, 255])
    flags = helper.make_tensor("flags", TensorProto.BOOL, [3], [True, False, True])
    dbl = helper.make_tensor("dbl", TensorProto.DOUBLE, [2], [0.1, -3.0])
    const = helper.make_node("Constant", [], ["k"], name="k",
                             value=helper.make_tensor("", TensorProto.FLOAT, [2], [3.0, 4.0]))
    gemm = helper.make_node("Gemm", ["x", "fc.weight", "fc.bias"], ["y"], name="fc", alpha=1.0, beta=1.0, transB=1)
    graph = helper.make_graph(
        [const, gemm], "raw",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3]),
         helper.make_tensor_value_info("k", TensorProto.FLOAT, [2])],
        [w, b, half, i8, u8, flags, dbl])
    model = helper.make_model(graph, producer_name="make-onnx-proto-fixtures", opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 7
    save(model, "raw_data.onnx")
    with open(os.path.join(OUT, "raw_data.expected.json"), "w") as f:
        json.dump({"fc.weight": [float(v) for v in numpy_helper.to_array(w).ravel()]}, f, indent=1)


def external_data():
    """Two initializers stored in weights.bin beside the model (offsets and lengths written by onnx)."""
    w = numpy_helper.from_array(np.arange(24, dtype=np.float32).reshape(2, 3, 4) / 8, "w")
    ids = numpy_helper.from_array(np.array([5, -6, 7], dtype=np.int64), "ids")
    node = helper.make_node("Add", ["x", "w"], ["y"], name="add")
    graph = helper.make_graph(
        [node], "external",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3, 4])],
        [w, ids])
    model = helper.make_model(graph, producer_name="make-onnx-proto-fixtures", opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 7
    onnx.checker.check_model(model)
    path = os.path.join(OUT, "external_data.onnx")
    # onnx appends to an existing data file: start from none, so reruns give the same offsets.
    if os.path.exists(os.path.join(OUT, "weights.bin")):
        os.remove(os.path.join(OUT, "weights.bin"))
    onnx.save_model(model, path, save_as_external_data=True, all_tensors_to_one_file=True,
                    location="weights.bin", size_threshold=0)


def torch_conv():
    """A tiny conv net exported by torch.onnx.export at opset 13; its state dict's values beside it."""
    import torch

    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(4 * 4 * 4, 3))
    net.eval()
    path = os.path.join(OUT, "torch_conv.onnx")
    torch.onnx.export(net, torch.zeros(1, 1, 8, 8), path, opset_version=13,
                      input_names=["image"], output_names=["logits"],
                      dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}})
    onnx.checker.check_model(onnx.load(path))
    expected = {name: {"dims": list(t.shape), "values": [float(v) for v in t.detach().numpy().ravel()]}
                for name, t in net.state_dict().items()}
    with open(os.path.join(OUT, "torch_conv.expected.json"), "w") as f:
        json.dump(expected, f, indent=1)


def torch_named():
    """Two tiny conv nets exported by torch under their own tensor names, as users name them.

    torch_named.onnx: input_names=["pixel_values"], output_names=["logits"], a dynamic batch (as Hugging Face exports).
    torch_named_batch1.onnx: Keras-style names "input_1" / "dense_1", the batch fixed at 1 (no dynamic_axes).
    torch_named.expected.json: for each, a seeded input [1, 1, 6, 6] and the logits torch computes for it.
    """
    import torch

    expected = {}
    for file, names, dynamic in [("torch_named.onnx", ("pixel_values", "logits"), True),
                                 ("torch_named_batch1.onnx", ("input_1", "dense_1"), False)]:
        torch.manual_seed(1)
        net = torch.nn.Sequential(
            torch.nn.Conv2d(1, 2, 3, padding=1), torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Linear(2 * 6 * 6, 3))
        net.eval()
        x = torch.rand(1, 1, 6, 6)
        path = os.path.join(OUT, file)
        axes = {names[0]: {0: "batch"}, names[1]: {0: "batch"}} if dynamic else None
        torch.onnx.export(net, x, path, opset_version=13, input_names=[names[0]], output_names=[names[1]], dynamic_axes=axes)
        onnx.checker.check_model(onnx.load(path))
        with torch.no_grad():
            y = net(x)
        expected[file] = {"input": [float(v) for v in x.numpy().ravel()], "output": [float(v) for v in y.numpy().ravel()]}
    with open(os.path.join(OUT, "torch_named.expected.json"), "w") as f:
        json.dump(expected, f, indent=1)


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    typed_float_data()
    raw_data()
    external_data()
    torch_conv()
    torch_named()
    for name in sorted(os.listdir(OUT)):
        print(f"{os.path.getsize(os.path.join(OUT, name)):8d}  {name}")
