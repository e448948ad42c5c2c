using System.Text.Json;
using FuseChat.Client.Demo;
using FuseChat.Fusion.Checkpoints;

namespace FuseChat.Client.Tests;

/// <summary>
/// <c>fusechat demo --dtype bf16</c>: the whole fusion through the grains with bf16 representations and bf16
/// training (fp32 master weights), the way a GPU silo runs it; here on the CPU, where libtorch has bf16 kernels too.
/// </summary>
[Collection(DemoRunsCollection.Name)]
public sealed class DemoDtypeTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("fusechat-demo-bf16-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task The_demo_in_bf16_trains_bf16_targets_with_fp32_masters_and_the_fused_model_beats_the_pivot()
    {
        var workspace = Path.Combine(_root, "workspace");
        var console = CapturedConsole.Create(out var output);
        // A guard against a hang only: under a loaded CI machine the models alone have taken minutes.
        using var limit = new CancellationTokenSource(TimeSpan.FromMinutes(15));

        var exit = await FusionDemo.RunAsync(workspace, seed: 7, dtype: "bf16", console, limit.Token);

        Assert.True(exit == 0, output.ToString());
        var spec = File.ReadAllText(Path.Combine(workspace, "run", "spec.yaml"));
        Assert.Contains("dtype: bf16}", spec, StringComparison.Ordinal);

        var targets = Path.Combine(workspace, "run", "out", "work", "targets");
        foreach (var source in new[] { "source-a", "source-b" })
        {
            using (var target = SafetensorsFile.Open(Path.Combine(targets, source, "model.safetensors")))
                Assert.All(target.Tensors, t => Assert.Equal(SafetensorsDType.BF16, t.DType));
            var last = Directory.GetDirectories(Path.Combine(targets, source + ".checkpoints"), "checkpoint-*").Max()!;
            using var optimizer = SafetensorsFile.Open(Path.Combine(last, "optimizer", "model.safetensors"));
            var masters = optimizer.Tensors.Where(t => t.Name.StartsWith("master.", StringComparison.Ordinal)).ToList();
            Assert.NotEmpty(masters);
            Assert.All(masters, t => Assert.Equal(SafetensorsDType.F32, t.DType));
        }

        using var report = JsonDocument.Parse(File.ReadAllText(Path.Combine(workspace, "run", "out", "report.json")));
        var perplexity = report.RootElement.GetProperty("models").EnumerateArray()
            .ToDictionary(m => m.GetProperty("model").GetString()!, m => m.GetProperty("perplexity").GetDouble());
        Assert.True(double.IsFinite(perplexity["fused"]), "fused perplexity is not finite");
        Assert.True(perplexity["fused"] < perplexity["pivot"] / 10, $"fused {perplexity["fused"]} vs pivot {perplexity["pivot"]}");
    }
}
