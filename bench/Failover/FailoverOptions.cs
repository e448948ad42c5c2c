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

    /// <summary>
    /// Each silo process gets disks of its own, as pods without a shared volume do: it runs in a mount namespace of
    /// its own (unshare, needs root) where the runs' output folders, the models and the data are empty folders private to
    /// it. The models and chats go to the artifact store and the specs name them as artifact: paths; the fused models
    /// are compared as the store holds them.
    /// </summary>
    public bool PerSiloDisks { get; init; }

    /// <summary>Deadline of each run.</summary>
    public TimeSpan RunTimeout { get; init; } = TimeSpan.FromMinutes(8);

    /// <summary>Progress lines.</summary>
    public Action<string> Say { get; init; } = _ => { };
}
