using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans;
using Orleans.Serialization;
using Orleans.Serialization.Serializers;
using Orleans.Storage;

namespace FuseChat.Grains.Tests.Storage;

/// <summary>A state shaped like the grains' states: [GenerateSerializer], init-only properties, collections.</summary>
[GenerateSerializer]
public sealed record RunState
{
    [Id(0)] public string Name { get; init; } = string.Empty;
    [Id(1)] public int Stage { get; init; }
    [Id(2)] public List<string> Sources { get; init; } = [];
    [Id(3)] public DateTimeOffset StartedAt { get; init; }
    [Id(4)] public Dictionary<string, double> Scores { get; init; } = [];
    [Id(5)] public RunPhase Phase { get; init; }
    [Id(6)] public ShardRef? Checkpoint { get; init; }
}

[GenerateSerializer]
public enum RunPhase
{
    Pending,
    Aligning,
    Fusing,
    Done,
}

/// <summary>A positional record, the other shape in use.</summary>
[GenerateSerializer]
public sealed record ShardRef([property: Id(0)] string Path, [property: Id(1)] long Bytes);

public static class TestSerialization
{
    private static readonly IServiceProvider Services = new ServiceCollection().AddSerializer().BuildServiceProvider();

    public static IGrainStorageSerializer Json { get; } =
        new SystemTextJsonGrainStorageSerializer(Options.Create(new SystemTextJsonGrainStorageSerializerOptions()));

    public static IActivatorProvider? Activators { get; } = Services.GetService<IActivatorProvider>();

    public static RunState Sample(string name = "run-1") => new()
    {
        Name = name,
        Stage = 3,
        Sources = ["qwen", "llama", "gemma"],
        StartedAt = new DateTimeOffset(2026, 11, 2, 10, 30, 0, TimeSpan.Zero),
        Scores = new() { ["ppl"] = 12.5, ["em"] = 0.25 },
        Phase = RunPhase.Fusing,
        Checkpoint = new ShardRef("runs/run-1/ckpt-3", 123_456_789_012),
    };

    public static void AssertSame(RunState expected, RunState actual)
    {
        Assert.Equal(expected.Name, actual.Name);
        Assert.Equal(expected.Stage, actual.Stage);
        Assert.Equal(expected.Sources, actual.Sources);
        Assert.Equal(expected.StartedAt, actual.StartedAt);
        Assert.Equal(expected.Scores, actual.Scores);
        Assert.Equal(expected.Phase, actual.Phase);
        Assert.Equal(expected.Checkpoint, actual.Checkpoint);
    }
}
