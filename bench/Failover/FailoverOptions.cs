namespace FuseChat.Bench.Failover;

/// <summary>Settings of <see cref="FailoverScenario"/>.</summary>
public sealed record FailoverOptions
{
    /// <summary>The repository (for the npm fixtures: tokenizers and Azurite).</summary>
    public required string RepositoryRoot { get; init; }

    /// <summary>The built CLI, fusechat.dll, that runs each silo process (`fusechat silo`).</summary>
    public required string ClientDll { get; init; }

    /// <summary>Scratch folder: models, both runs' outputs, the silo logs. Emptied first.</summary>
    public required string WorkFolder { get; init; }

    /// <summary>Training epochs of each pairwise fusion (12 steps each).</summary>
    public int Epochs { get; init; } = 12;

    /// <summary>Steps between training checkpoints.</summary>
    public int CheckpointEvery { get; init; } = 20;

    /// <summary>The kill comes once source-a's fusion reports at least this step (default: half-way between two checkpoints after the first).</summary>
    public int? KillAtStep { get; init; }

    /// <summary>Deadline of each run.</summary>
    public TimeSpan RunTimeout { get; init; } = TimeSpan.FromMinutes(8);

    /// <summary>Progress lines.</summary>
    public Action<string> Say { get; init; } = _ => { };
}
