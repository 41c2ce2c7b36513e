using CnnService.Engine.Format;
using CnnService.Engine.Onnx.Import;

namespace CnnService.Engine.Tests.Onnx;

/// <summary>The <c>config.json</c> beside a <c>model.onnx</c>: what ONNX does not carry about the input.</summary>
public sealed class OnnxConfigTests
{
    [Fact]
    public void An_input_preprocess_hint_is_read()
    {
        OnnxImportOptions options = OnnxConfig.Parse("""{"input": {"color": "grayscale", "preprocess": "mnist"}}""", "config.json");

        Assert.Equal("mnist", options.Preprocess);
    }

    [Fact]
    public void A_preprocess_hint_that_is_not_a_string_is_refused_naming_the_key()
    {
        var e = Assert.Throws<ModelFormatException>(() => OnnxConfig.Parse("""{"input": {"preprocess": 7}}""", "config.json"));

        Assert.Contains("input.preprocess", e.Message);
    }
}
