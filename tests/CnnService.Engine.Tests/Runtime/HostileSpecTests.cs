using System.Text.RegularExpressions;
using CnnService.Engine.Format;
using CnnService.Engine.Runtime;
using CnnService.Engine.Tests.Support;

namespace CnnService.Engine.Tests.Runtime;

public class HostileSpecTests
{
    private static readonly string[] Hostile = ["0", "-1", "1", "2", "3", "29", "4096", "65536", "1048576", "2147483647", "99999999999", "1e40", "0.5"];

    [Fact]
    public void Mutated_layer_numbers_load_or_fail_with_a_model_format_error()
    {
        using var dir = new TempDir();
        int loaded = 0, refused = 0;
        foreach (string arch in Architectures.Names)
        {
            ModelSpec spec = Architectures.Get(arch);
            SafeTensors.Write(dir.File("weights.safetensors"), WeightInitializer.Initialize(spec, 1).AllFloat32());
            string json = ModelSpecJson.ToJson(spec);
            MatchCollection numbers = Regex.Matches(json, @"(?<=: |\[|, )\d+(?=[,\]\s])");
            Assert.True(numbers.Count > 5, $"{arch}: found only {numbers.Count} numbers to mutate");
            var random = new Random(arch.Length);
            for (int trial = 0; trial < 150; trial++)
            {
                Match target = numbers[random.Next(numbers.Count)];
                string mutated = json[..target.Index] + Hostile[random.Next(Hostile.Length)] + json[(target.Index + target.Length)..];
                File.WriteAllText(dir.File("model.json"), mutated);

                try
                {
                    ModelLoader.Load(dir.Path, new EngineOptions { Threads = 1 });
                    loaded++;
                }
                catch (ModelFormatException)
                {
                    refused++;
                }
                catch (Exception e)
                {
                    Assert.Fail($"{arch}, trial {trial}: {e.GetType().Name}: {e.Message}\n{mutated}");
                }
            }
        }

        // Both outcomes occur, so the mutations reach past the parser into the layers.
        Assert.True(loaded > 0 && refused > 0, $"loaded {loaded}, refused {refused}");
    }
}
