using System.Text.Json.Nodes;
using CnnService.Engine.Format;
using static CnnService.Engine.Tests.Format.ModelJsonSamples;

namespace CnnService.Engine.Tests.Format;

public class LayerAttributesTests
{
    [Fact]
    public void Values_built_in_code_read_as_parsed_ones()
    {
        // An importer or a test builds Extra from CLR values, not parsed JSON elements.
        var built = new LayerSpec { Type = "relu", Extra = new JsonObject { ["n"] = 3, ["x"] = 0.5f, ["list"] = new JsonArray(1, 2, 3), ["on"] = true } };
        var parsed = SingleLayer("""{ "type": "relu", "n": 3, "x": 0.5, "list": [1, 2, 3], "on": true }""");

        foreach (LayerSpec spec in new[] { built, parsed })
        {
            var a = new LayerAttributes(spec, "here");
            Assert.Equal(3, a.Int("n", 0, 0, 10));
            Assert.Equal(0.5f, a.Float("x", 0f));
            Assert.Equal([1, 2, 3], a.Ints("list", 0, 10)!);
            Assert.True(a.Bool("on", false));
        }
    }

    [Fact]
    public void A_number_out_of_range_is_refused_either_way()
    {
        var built = new LayerSpec { Type = "relu", Extra = new JsonObject { ["n"] = 30 } };

        var e = Assert.Throws<ModelFormatException>(() => new LayerAttributes(built, "here").Int("n", 0, 0, 10));
        Assert.Equal("here: \"n\" must be an integer from 0 to 10, got 30.", e.Message);
    }
}
