using System.Text;
using CnnService.Engine.Format;
using CnnService.Engine.Tests.Support;
using static CnnService.Engine.Tests.Format.ModelJsonSamples;

namespace CnnService.Engine.Tests.Format;

/// <summary>Each rule of the format: the error names the file, the layer and what is wrong.</summary>
public class ModelSpecJsonValidationTests
{
    private const string Conv = """ "type": "conv2d", "name": "conv1", "filters": 4 """;

    // --- document ---

    [Fact]
    public void MalformedJson_IsReportedAsInvalidJson() => AssertRejected("""{ "name": "m", """, "not valid JSON");

    [Fact]
    public void TopLevelArray_IsRejected() => AssertRejected("[]", "top level", "object");

    [Fact]
    public void DuplicateKey_IsRejected() => AssertRejected("""{ "name": "a", "name": "b", "input": {}, "layers": [] }""", "name");

    [Fact]
    public void DeeplyNestedUnknownValue_IsRejectedNotStackOverflow() =>
        AssertRejected(WithLayers($$"""{ "type": "relu", "x": {{new string('[', 5000)}}{{new string(']', 5000)}} }"""), "not valid JSON");

    [Fact]
    public void MissingName_IsRejected() => AssertRejected("""{ "input": { "channels": 1, "height": 1, "width": 1 }, "layers": [ { "type": "relu" } ] }""", "\"name\"", "missing");

    [Fact]
    public void EmptyName_IsRejected() => AssertRejected("""{ "name": "", "input": { "channels": 1, "height": 1, "width": 1 }, "layers": [ { "type": "relu" } ] }""", "\"name\"");

    [Fact]
    public void MissingInput_IsRejected() => AssertRejected("""{ "name": "m", "layers": [ { "type": "relu" } ] }""", "\"input\"", "missing");

    [Fact]
    public void MissingLayers_IsRejected() => AssertRejected("""{ "name": "m", "input": { "channels": 1, "height": 1, "width": 1 } }""", "\"layers\"", "missing");

    [Fact]
    public void EmptyLayers_IsRejected() => AssertRejected(WithLayers(""), "\"layers\"", "empty");

    [Fact]
    public void LayersNotAnArray_IsRejected() => AssertRejected("""{ "name": "m", "input": { "channels": 1, "height": 1, "width": 1 }, "layers": {} }""", "\"layers\"", "array");

    [Fact]
    public void MoreThanTenThousandLayers_IsRejected() =>
        AssertRejected(WithLayers(string.Join(",", Enumerable.Repeat("""{"type":"relu"}""", 10_001))), "10001", "10000");

    [Fact]
    public void DescriptionNotString_IsRejected() => AssertRejected(Mnist.Replace("\"Keras MNIST CNN\"", "42"), "\"description\"");

    [Fact]
    public void MetricsNotObject_IsRejected() => AssertRejected(Mnist.Replace("""{ "dataset": "mnist", "test_accuracy": 0.99 }""", "[1]"), "\"metrics\"", "object");

    [Fact]
    public void LabelsNotArray_IsRejected() => AssertRejected(Mnist.Replace("""["0","1","2","3","4","5","6","7","8","9"]""", "\"0-9\""), "\"labels\"");

    [Fact]
    public void LabelNotString_IsRejected() => AssertRejected(Mnist.Replace("\"3\",", "3,"), "labels", "label 3", "string");

    // --- input ---

    [Fact]
    public void Input_NotObject_IsRejected() => AssertInputRejected("[1, 28, 28]", "object");

    [Fact]
    public void Input_MissingChannels_IsRejected() => AssertInputRejected("""{ "height": 4, "width": 4 }""", "\"channels\"", "missing");

    [Fact]
    public void Input_ZeroHeight_IsRejected() => AssertInputRejected("""{ "channels": 1, "height": 0, "width": 4 }""", "\"height\"");

    [Fact]
    public void Input_WidthOverCap_IsRejected() => AssertInputRejected("""{ "channels": 1, "height": 4, "width": 65537 }""", "\"width\"", "65536");

    [Fact]
    public void Input_HugeNumber_IsRejectedNotOverflow() => AssertInputRejected("""{ "channels": 1e300, "height": 4, "width": 4 }""", "\"channels\"");

    [Fact]
    public void Input_VolumeOverCap_IsRejected() => AssertInputRejected("""{ "channels": 8, "height": 4096, "width": 4096 }""", "134217728", "67108864");

    [Fact]
    public void Input_GrayscaleWithThreeChannels_IsRejected() => AssertInputRejected("""{ "channels": 3, "height": 4, "width": 4, "color": "grayscale" }""", "grayscale", "3");

    [Fact]
    public void Input_RgbWithOneChannel_IsRejected() => AssertInputRejected("""{ "channels": 1, "height": 4, "width": 4, "color": "rgb" }""", "rgb", "1");

    [Fact]
    public void Input_UnknownColor_IsRejected() => AssertInputRejected("""{ "channels": 3, "height": 4, "width": 4, "color": "bgr" }""", "\"color\"", "bgr");

    [Fact]
    public void Input_MeanOfWrongLength_IsRejected() => AssertInputRejected("""{ "channels": 3, "height": 4, "width": 4, "mean": [0.1, 0.2] }""", "\"mean\"", "1 or 3");

    [Fact]
    public void Input_MeanNotNumber_IsRejected() => AssertInputRejected("""{ "channels": 1, "height": 4, "width": 4, "mean": ["0.5"] }""", "\"mean\"", "number");

    [Fact]
    public void Input_ZeroStd_IsRejected() => AssertInputRejected("""{ "channels": 3, "height": 4, "width": 4, "std": [1, 0, 1] }""", "\"std\"", "zero");

    [Fact]
    public void Input_InfiniteScale_IsRejected() => AssertInputRejected("""{ "channels": 1, "height": 4, "width": 4, "scale": 1e400 }""", "\"scale\"", "finite");

    [Fact]
    public void Input_ScaleBeyondFloatRange_IsRejected() => AssertInputRejected("""{ "channels": 1, "height": 4, "width": 4, "scale": 1e39 }""", "\"scale\"", "finite");

    // --- layers: structure and type ---

    [Fact]
    public void Layer_NotObject_IsRejected() => AssertLayerRejected("""{ "type": "relu" }, "relu" """, "layer 1", "object");

    [Fact]
    public void Layer_MissingType_IsRejected() => AssertLayerRejected("""{ "name": "x" }""", "layer 0", "\"type\"", "missing");

    [Fact]
    public void Layer_TypeNotString_IsRejected() => AssertLayerRejected("""{ "type": 7 }""", "layer 0", "\"type\"", "string");

    [Fact]
    public void Layer_UnknownType_NamesIndexTypeAndKnownTypes() =>
        AssertLayerRejected("""{ "type": "relu" }, { "type": "conv3d" }""", "layer 1 (conv3d)", "unknown type \"conv3d\"",
            "known types: conv2d, relu, sigmoid, tanh, maxpool2d, avgpool2d, global_avgpool, flatten, dense, dropout, lrn, batchnorm, softmax");

    [Fact]
    public void Layer_ErrorContext_IncludesNameAndType() =>
        Assert.StartsWith("model.json: layer 0 (conv1, conv2d): \"kernel\" must be an integer or [h, w] pair of positive integers",
            AssertLayerRejected($$"""{ {{Conv}}, "kernel": [3] }""").Message);

    [Fact]
    public void Layer_DuplicateName_NamesBothLayers() =>
        AssertLayerRejected($$"""{ {{Conv}}, "kernel": 3 }, { "type": "relu" }, { "type": "batchnorm", "name": "conv1" }""",
            "layer 2 (conv1, batchnorm)", "already used by layer 0");

    [Fact]
    public void Layer_NameNotString_IsRejected() => AssertLayerRejected("""{ "type": "dense", "name": 1, "units": 3 }""", "layer 0 (dense)", "\"name\"");

    // --- layers: required keys ---

    [Fact]
    public void Conv2d_WithoutName_IsRejected() => AssertLayerRejected("""{ "type": "conv2d", "filters": 4, "kernel": 3 }""", "layer 0 (conv2d)", "\"name\"", "required");

    [Fact]
    public void Conv2d_WithoutFilters_IsRejected() => AssertLayerRejected("""{ "type": "conv2d", "name": "c", "kernel": 3 }""", "layer 0 (c, conv2d)", "\"filters\"", "required");

    [Fact]
    public void Conv2d_WithoutKernel_IsRejected() => AssertLayerRejected($$"""{ {{Conv}} }""", "layer 0 (conv1, conv2d)", "\"kernel\"", "required");

    [Fact]
    public void Dense_WithoutName_IsRejected() => AssertLayerRejected("""{ "type": "dense", "units": 3 }""", "layer 0 (dense)", "\"name\"");

    [Fact]
    public void Dense_WithoutUnits_IsRejected() => AssertLayerRejected("""{ "type": "dense", "name": "fc" }""", "layer 0 (fc, dense)", "\"units\"", "required");

    [Fact]
    public void Batchnorm_WithoutName_IsRejected() => AssertLayerRejected("""{ "type": "batchnorm" }""", "layer 0 (batchnorm)", "\"name\"");

    [Fact]
    public void Maxpool_WithoutKernel_IsRejected() => AssertLayerRejected("""{ "type": "maxpool2d", "stride": 2 }""", "layer 0 (maxpool2d)", "\"kernel\"", "required");

    [Fact]
    public void Avgpool_WithoutKernel_IsRejected() => AssertLayerRejected("""{ "type": "avgpool2d" }""", "layer 0 (avgpool2d)", "\"kernel\"", "required");

    // --- layers: ranges ---

    [Fact]
    public void Filters_Zero_IsRejected() => AssertLayerRejected("""{ "type": "conv2d", "name": "c", "filters": 0, "kernel": 3 }""", "layer 0 (c, conv2d)", "\"filters\"");

    [Fact]
    public void Filters_OverCap_IsRejected() => AssertLayerRejected("""{ "type": "conv2d", "name": "c", "filters": 1048577, "kernel": 3 }""", "\"filters\"", "1048576");

    [Fact]
    public void Filters_Fraction_IsRejected() => AssertLayerRejected("""{ "type": "conv2d", "name": "c", "filters": 3.5, "kernel": 3 }""", "\"filters\"", "integer");

    [Fact]
    public void Filters_String_IsRejected() => AssertLayerRejected("""{ "type": "conv2d", "name": "c", "filters": "32", "kernel": 3 }""", "\"filters\"", "integer");

    [Fact]
    public void Units_HugeNumber_IsRejectedNotOverflow() => AssertLayerRejected("""{ "type": "dense", "name": "fc", "units": 99999999999999999999999 }""", "layer 0 (fc, dense)", "\"units\"");

    [Fact]
    public void Kernel_Zero_IsRejected() => AssertLayerRejected($$"""{ {{Conv}}, "kernel": 0 }""", "\"kernel\"", "positive");

    [Fact]
    public void Kernel_OverCap_IsRejected() => AssertLayerRejected($$"""{ {{Conv}}, "kernel": [3, 4097] }""", "\"kernel\"", "4096");

    [Fact]
    public void Kernel_ThreeElements_IsRejected() => AssertLayerRejected($$"""{ {{Conv}}, "kernel": [3, 3, 3] }""", "\"kernel\"", "[h, w]");

    [Fact]
    public void Stride_Zero_IsRejected() => AssertLayerRejected($$"""{ {{Conv}}, "kernel": 3, "stride": [1, 0] }""", "layer 0 (conv1, conv2d)", "\"stride\"");

    [Fact]
    public void Padding_Negative_IsRejected() => AssertLayerRejected($$"""{ {{Conv}}, "kernel": 3, "padding": -1 }""", "\"padding\"", "non-negative");

    [Fact]
    public void Padding_UnknownString_IsRejected() => AssertLayerRejected($$"""{ {{Conv}}, "kernel": 3, "padding": "full" }""", "\"padding\"", "\"same\"");

    [Fact]
    public void Padding_SameWithStrideTwo_IsRejected() =>
        AssertLayerRejected($$"""{ {{Conv}}, "kernel": 3, "stride": 2, "padding": "same" }""", "layer 0 (conv1, conv2d)", "same", "stride 1");

    [Fact]
    public void Padding_SameOnPoolingWithDefaultStride_IsRejected() =>
        AssertLayerRejected("""{ "type": "maxpool2d", "kernel": 2, "padding": "same" }""", "layer 0 (maxpool2d)", "same", "defaults to the kernel");

    [Fact]
    public void PaddingMode_Unknown_IsRejected() => AssertLayerRejected($$"""{ {{Conv}}, "kernel": 3, "padding_mode": "circular" }""", "\"padding_mode\"", "reflect");

    [Fact]
    public void Bias_NotBool_IsRejected() => AssertLayerRejected($$"""{ {{Conv}}, "kernel": 3, "bias": "yes" }""", "\"bias\"", "true or false");

    [Fact]
    public void Rate_One_IsRejected() => AssertLayerRejected("""{ "type": "dropout", "rate": 1 }""", "layer 0 (dropout)", "\"rate\"");

    [Fact]
    public void Rate_Negative_IsRejected() => AssertLayerRejected("""{ "type": "dropout", "rate": -0.1 }""", "layer 0 (dropout)", "\"rate\"");

    [Fact]
    public void Eps_Negative_IsRejected() => AssertLayerRejected("""{ "type": "batchnorm", "name": "bn", "eps": -1e-5 }""", "layer 0 (bn, batchnorm)", "\"eps\"");

    [Fact]
    public void Momentum_AboveOne_IsRejected() => AssertLayerRejected("""{ "type": "batchnorm", "name": "bn", "momentum": 2 }""", "\"momentum\"");

    [Fact]
    public void LrnSize_Zero_IsRejected() => AssertLayerRejected("""{ "type": "lrn", "size": 0 }""", "layer 0 (lrn)", "\"size\"");

    [Fact]
    public void LrnAlpha_Infinite_IsRejected() => AssertLayerRejected("""{ "type": "lrn", "alpha": 1e400 }""", "\"alpha\"", "finite");

    // --- files ---

    [Fact]
    public void Load_ReadsAFileWithUtf8Bom()
    {
        using var dir = new TempDir();
        string path = dir.File("model.json");
        File.WriteAllText(path, Mnist, new UTF8Encoding(encoderShouldEmitUTF8Identifier: true));
        Assert.Equal("mnist", ModelSpecJson.Load(path).Name);
    }

    [Fact]
    public void Load_ErrorsNameThePath()
    {
        using var dir = new TempDir();
        string path = dir.File("model.json");
        File.WriteAllText(path, WithLayers("""{ "type": "conv3d" }"""));
        var e = Assert.Throws<ModelFormatException>(() => ModelSpecJson.Load(path));
        Assert.StartsWith(path + ": layer 0 (conv3d)", e.Message);
    }

    [Fact]
    public void Load_InvalidUtf8_IsRejected()
    {
        using var dir = new TempDir();
        string path = dir.File("model.json");
        File.WriteAllBytes(path, [.. Encoding.UTF8.GetBytes("{ \"name\": \""), 0xFF, .. Encoding.UTF8.GetBytes("\" }")]);
        var e = Assert.Throws<ModelFormatException>(() => ModelSpecJson.Load(path));
        Assert.Contains("UTF-8", e.Message);
    }

    [Fact]
    public void Load_FileOver16MiB_IsRefusedWithoutReadingIt()
    {
        using var dir = new TempDir();
        string path = dir.File("model.json");
        using (var f = File.Create(path))
            f.SetLength(ModelSpecJson.MaxFileBytes + 1); // sparse: cheap to create
        var e = Assert.Throws<ModelFormatException>(() => ModelSpecJson.Load(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("16 MiB", e.Message);
    }

    [Fact]
    public void Load_MissingFile_IsAModelFormatExceptionNamingThePath()
    {
        using var dir = new TempDir();
        string path = dir.File("nope.json");
        var e = Assert.Throws<ModelFormatException>(() => ModelSpecJson.Load(path));
        Assert.StartsWith(path + ": ", e.Message);
        Assert.IsType<FileNotFoundException>(e.InnerException);
    }

    [Fact]
    public void Parse_InvalidUtf16_IsAModelFormatException() =>
        AssertRejected("{ \"name\": \"\uD800\" }", "not valid JSON");

    /// <summary>Random corruption of a valid file must never surface as anything but ModelFormatException.</summary>
    [Fact]
    public void RandomCorruption_OnlyEverThrowsModelFormatException()
    {
        const string alphabet = "{}[]\":,-.0123456789eE \\abnlstu\u0000";
        var random = new Random(4321);
        for (int i = 0; i < 3000; i++)
        {
            char[] text = Mnist.ToCharArray();
            int edits = random.Next(1, 4);
            for (int e = 0; e < edits; e++)
                text[random.Next(text.Length)] = alphabet[random.Next(alphabet.Length)];
            string json = new string(text);
            if (random.Next(4) == 0)
                json = json[..random.Next(json.Length)];
            try
            {
                Parse(json);
            }
            catch (ModelFormatException e)
            {
                Assert.StartsWith(FileName + ": ", e.Message);
            }
        }
    }
}
