using CnnService.Engine.Format;
using CnnService.Engine.Tests.Support;

namespace CnnService.Engine.Tests.Format;

/// <summary>The temporary file of an atomic write, which a process killed mid-write leaves behind, is recognisable by its name.</summary>
public class SafeTensorsTempFileTests
{
    [Fact]
    public void The_temporary_file_a_write_is_filling_names_the_file_it_is_written_for()
    {
        using var dir = new TempDir();
        string[] during = [];
        SafeTensors.Write(dir.File("job.ckpt"), Tensors());

        // Enumerated while the temporary file is open: what a kill at that moment would leave.
        IEnumerable<NamedTensor> Tensors()
        {
            during = Directory.GetFiles(dir.Path).Select(Path.GetFileName).OfType<string>().ToArray();
            yield return new NamedTensor("w", [1], [1]);
        }

        string temp = Assert.Single(during);
        Assert.Equal("job.ckpt", SafeTensors.TargetOfTempFile(temp));
    }

    [Theory]
    [InlineData("job.ckpt")]
    [InlineData(".job.ckpt")]
    [InlineData("notes.tmp")]
    [InlineData(".job.ckpt.not-a-guid.tmp")]
    [InlineData(".job.ckpt.0123456789abcdef0123456789abcdef.tmp.part")]
    [InlineData("job.ckpt.0123456789abcdef0123456789abcdef.tmp")]
    [InlineData("..0123456789abcdef0123456789abcdef.tmp")]
    public void Other_names_are_not_temporary_files(string name) => Assert.Null(SafeTensors.TargetOfTempFile(name));
}
