using CnnService.Engine.Format;
using CnnService.Engine.Onnx;
using CnnService.Engine.Onnx.Export;
using CnnService.Engine.Onnx.Import;
using CnnService.Engine.Runtime;
using CnnService.Engine.Tests.Support;

namespace CnnService.Engine.Tests.Onnx;

/// <summary>One layer type (or one setting of it) at a time: the exported file runs in ONNX Runtime to the engine's outputs.</summary>
public class OnnxExportLayerTests
{
    private static LayerSpec Conv(string name, int filters, int kernel, Padding padding, string mode = "zeros", int stride = 1) => new()
    {
        Type = "conv2d", Name = name, Filters = filters, Kernel = Pair.Square(kernel), Stride = Pair.Square(stride), Padding = padding, PaddingMode = mode,
    };

    [Fact]
    public void Reflect_padded_conv_becomes_a_reflect_pad_then_an_unpadded_conv()
    {
        ModelSpec spec = TestModels.Spec(new TensorShape(2, 7, 6), Conv("c", 3, 3, Padding.Sides(2, 1, 1, 2), "reflect"));
        OnnxModel onnx = AssertSameOutputs(spec);
        Assert.Equal(["Pad", "Conv"], onnx.Graph.Nodes.Select(n => n.OpType));
        Assert.Equal("reflect", onnx.Graph.Nodes[0].GetString("mode", null));
        Assert.Equal([0L, 0, 0, 0], onnx.Graph.Nodes[1].GetInts("pads")!);
    }

    [Fact]
    public void Reflect_pad_then_conv_imports_back_as_one_reflect_padded_conv2d()
    {
        ModelSpec spec = TestModels.Spec(new TensorShape(2, 7, 6), Conv("c", 3, 3, Padding.Sides(2, 1, 1, 2), "reflect"));
        OnnxModel onnx = OnnxExporter.Export(spec, Weights(spec));
        var (back, _) = OnnxImporter.Import(onnx, new OnnxImportOptions());

        LayerSpec conv = Assert.Single(back.Layers);
        Assert.Equal("conv2d", conv.Type);
        Assert.Equal("reflect", conv.PaddingMode);
        Assert.Equal(Padding.Sides(2, 1, 1, 2), conv.Padding);
    }

    [Fact]
    public void Asymmetric_zero_padding_is_conv_pads_top_left_bottom_right()
    {
        ModelSpec spec = TestModels.Spec(new TensorShape(2, 8, 9), Conv("c", 4, 3, Padding.Sides(0, 2, 1, 0), stride: 2));
        OnnxModel onnx = AssertSameOutputs(spec);
        Assert.Equal([0L, 2, 1, 0], Assert.Single(onnx.Graph.Nodes).GetInts("pads")!);
    }

    [Fact]
    public void Same_padding_with_an_even_kernel_puts_the_extra_row_and_column_bottom_right()
    {
        LayerSpec conv = Conv("c", 3, 4, Padding.Same);
        OnnxModel onnx = AssertSameOutputs(TestModels.Spec(new TensorShape(2, 6, 7), conv));
        Assert.Equal([1L, 1, 2, 2], Assert.Single(onnx.Graph.Nodes).GetInts("pads")!);
    }

    [Fact]
    public void Avgpool_with_padding_divides_by_the_cells_inside_the_input_as_the_engine_does()
    {
        var pool = new LayerSpec { Type = "avgpool2d", Kernel = Pair.Square(3), Stride = Pair.Square(2), Padding = Padding.Sides(1, 0, 1, 1) };
        OnnxModel onnx = AssertSameOutputs(TestModels.Spec(new TensorShape(3, 9, 8), pool));
        Assert.Equal(0L, Assert.Single(onnx.Graph.Nodes).GetInt("count_include_pad", -1));
    }

    [Fact]
    public void Maxpool_with_padding_and_the_default_stride_matches()
    {
        var pool = new LayerSpec { Type = "maxpool2d", Kernel = Pair.Square(2), Padding = Padding.Of(1, 1) };
        OnnxModel onnx = AssertSameOutputs(TestModels.Spec(new TensorShape(2, 7, 7), pool));
        Assert.Equal([2L, 2], Assert.Single(onnx.Graph.Nodes).GetInts("strides")!);
    }

    [Fact]
    public void Lrn_keeps_alpha_beta_and_k_with_the_same_alpha_over_size_convention()
    {
        var lrn = new LayerSpec { Type = "lrn", Size = 3, Alpha = 0.5f, Beta = 0.6f, K = 2f };
        OnnxModel onnx = AssertSameOutputs(TestModels.Spec(new TensorShape(6, 3, 4), lrn), scale: 4f);
        OnnxNode node = Assert.Single(onnx.Graph.Nodes);
        Assert.Equal(0.5f, node.GetFloat("alpha", 0));
        Assert.Equal(2f, node.GetFloat("bias", 0));
    }

    [Fact]
    public void Lrn_of_an_even_size_is_refused_naming_the_layer_because_onnx_places_its_window_differently()
    {
        var lrn = new LayerSpec { Type = "lrn", Name = "norm1", Size = 4 };
        var e = Assert.Throws<ModelFormatException>(() => OnnxExporter.Export(TestModels.Spec(new TensorShape(6, 3, 4), lrn), Weights(TestModels.Spec(new TensorShape(6, 3, 4), lrn))));
        Assert.Contains("norm1", e.Message);
        Assert.Contains("even size", e.Message);
    }

    [Fact]
    public void Batchnorm_with_non_trivial_statistics_matches()
    {
        ModelSpec spec = TestModels.Spec(new TensorShape(4, 5, 5), Conv("c", 3, 3, Padding.Zero), new LayerSpec { Type = "batchnorm", Name = "bn", Eps = 1e-3f });
        OnnxModel onnx = AssertSameOutputs(spec);
        Assert.Equal(1e-3f, onnx.Graph.Nodes[1].GetFloat("epsilon", 0));
    }

    [Fact]
    public void Softmax_on_a_chw_tensor_is_over_the_channels_at_each_position()
    {
        ModelSpec spec = TestModels.Spec(new TensorShape(5, 3, 4), new LayerSpec { Type = "softmax" });
        OnnxModel onnx = AssertSameOutputs(spec, scale: 3f);
        Assert.Equal(1L, Assert.Single(onnx.Graph.Nodes).GetInt("axis", -1));
    }

    [Fact]
    public void Dense_straight_after_a_conv_gets_a_flatten_in_chw_order()
    {
        ModelSpec spec = TestModels.Spec(new TensorShape(2, 5, 4), Conv("c", 3, 3, Padding.Zero), new LayerSpec { Type = "dense", Name = "fc", Units = 4 });
        OnnxModel onnx = AssertSameOutputs(spec);
        Assert.Equal(["Conv", "Flatten", "Gemm"], onnx.Graph.Nodes.Select(n => n.OpType));
        Assert.Equal(1L, onnx.Graph.Nodes[2].GetInt("transB", 0));
    }

    [Fact]
    public void A_conv_after_a_dense_layer_reads_its_output_reshaped_to_k_by_1_by_1()
    {
        ModelSpec spec = TestModels.Spec(new TensorShape(1, 4, 4),
            new LayerSpec { Type = "flatten" }, new LayerSpec { Type = "dense", Name = "fc", Units = 6 },
            Conv("c", 2, 1, Padding.Zero), new LayerSpec { Type = "global_avgpool" }, new LayerSpec { Type = "tanh" });
        AssertSameOutputs(spec);
    }

    [Fact]
    public void A_final_dropout_runs_nothing_the_layer_before_it_writes_the_output()
    {
        ModelSpec spec = TestModels.Spec(new TensorShape(3, 2, 2),
            new LayerSpec { Type = "flatten" }, new LayerSpec { Type = "dense", Name = "fc", Units = 5, UseBias = false },
            new LayerSpec { Type = "sigmoid" }, new LayerSpec { Type = "dropout", Rate = 0.5f });
        OnnxModel onnx = AssertSameOutputs(spec);
        Assert.Equal(["Flatten", "Gemm", "Sigmoid"], onnx.Graph.Nodes.Select(n => n.OpType));
        Assert.Equal(2, onnx.Graph.Nodes[1].Inputs.Count); // no bias: Gemm's C is left out
        Assert.Equal(["output"], onnx.Graph.Nodes[2].Outputs);
    }

    [Fact]
    public void A_model_whose_output_is_its_input_unchanged_writes_an_identity_to_the_output()
    {
        ModelSpec spec = TestModels.Spec(new TensorShape(3, 2, 2), new LayerSpec { Type = "dropout", Rate = 0.5f });
        OnnxModel onnx = AssertSameOutputs(spec, reimport: false); // the importer wants at least one layer that computes
        OnnxNode node = Assert.Single(onnx.Graph.Nodes);
        Assert.Equal("Identity", node.OpType);
        Assert.Equal(["input"], node.Inputs);
    }

    [Fact]
    public void The_file_declares_input_batch_c_h_w_with_a_symbolic_batch_output_named_output_and_the_opset_asked_for()
    {
        ModelSpec spec = CnnService.Engine.Runtime.Architectures.Get("lenet5");
        byte[] bytes = OnnxWriter.Write(OnnxExporter.Export(spec, WeightInitializer.Initialize(spec, 1), opset: 17));
        OnnxModel back = OnnxReader.Read(bytes, folder: null);

        Assert.Equal(17L, back.DefaultOpsetVersion);
        OnnxValueInfo input = Assert.Single(back.Graph.Inputs);
        Assert.Equal("input", input.Name);
        Assert.Equal(["batch", "1", "28", "28"], input.Dims!.Select(d => d.ToString()));
        Assert.Equal("batch", input.Dims![0].Param);
        OnnxValueInfo output = Assert.Single(back.Graph.Outputs);
        Assert.Equal("output", output.Name);
        Assert.Equal(["batch", "10"], output.Dims!.Select(d => d.ToString()));
        Assert.Equal(spec.Name, back.Graph.Name);
    }

    [Theory]
    [InlineData(12)]
    [InlineData(18)]
    public void An_opset_outside_13_to_17_is_refused(int opset)
    {
        ModelSpec spec = TestModels.Spec(new TensorShape(1, 2, 2), new LayerSpec { Type = "relu" });
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => OnnxExporter.Export(spec, Weights(spec), opset));
        Assert.Contains("13 to 17", e.Message);
    }

    [Fact]
    public void An_unknown_layer_type_is_an_error_naming_it()
    {
        ModelSpec spec = TestModels.Spec(new TensorShape(1, 2, 2), new LayerSpec { Type = "warp9" });
        var e = Assert.Throws<ModelFormatException>(() => OnnxExporter.Export(spec, WeightSet.FromTensors([])));
        Assert.Contains("warp9", e.Message);
    }

    /// <summary>Random values for every tensor the spec needs (variances kept positive): no trivial batchnorm statistics.</summary>
    internal static WeightSet Weights(ModelSpec spec, int seed = 3)
    {
        var tensors = WeightInitializer.Initialize(spec, seed).AllFloat32().Select((t, k) =>
        {
            float[] values = TestModels.Random(t.Data.Length, seed * 31 + k);
            if (t.Name.EndsWith(".running_var", StringComparison.Ordinal)) values = values.Select(v => MathF.Abs(v) + 0.25f).ToArray();
            return new NamedTensor(t.Name, t.Shape, values);
        });
        return WeightSet.FromTensors(tensors.ToList());
    }

    /// <summary>Exports the spec with random weights and asserts ONNX Runtime matches the engine at batch 1 and 3; returns the model read back from its bytes.</summary>
    /// <summary>
    /// Exports the spec with random weights and asserts ONNX Runtime matches the engine at batch 1 and 3, and (unless
    /// <paramref name="reimport"/> is false) that the file imports back to a model with the same outputs; returns the
    /// model read back from the file's bytes.
    /// </summary>
    internal static OnnxModel AssertSameOutputs(ModelSpec spec, float scale = 1f, int opset = 13, bool reimport = true)
    {
        Model model = Model.Create(spec, Weights(spec));
        byte[] bytes = OnnxWriter.Write(OnnxExporter.Export(spec, Weights(spec), opset));
        OnnxModel read = OnnxReader.Read(bytes, folder: null);
        Model? imported = null;
        if (reimport)
        {
            var (importedSpec, importedWeights) = OnnxImporter.Import(read, new OnnxImportOptions());
            imported = Model.Create(importedSpec, importedWeights);
        }

        foreach (int batch in new[] { 1, 3 })
        {
            float[] input = TestModels.Random(batch * model.InputShape.Size, batch, scale);
            float[] expected = OnnxRuntimeRunner.Forward(model, input, batch);
            OnnxRuntimeRunner.AssertSame(expected, OnnxRuntimeRunner.Run(bytes, input, batch, model.InputShape));
            if (imported is not null) OnnxRuntimeRunner.AssertSame(expected, OnnxRuntimeRunner.Forward(imported, input, batch));
        }

        return read;
    }
}
