using Azure.Storage.Blobs;
using FuseChat.Grains.Storage;
using FuseChat.Grains.Tests.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.Hosting;

namespace FuseChat.Grains.Tests.Runs;

/// <summary>
/// As <see cref="MirrorRunClusterFixture"/>, over a BlobArtifactStore on its own Azurite (a class fixture cannot take
/// the shared one), with a <see cref="RunArtifactCleaner"/> whose retention each test sets, deletes that can be made to
/// fail, and the silo's logs captured.
/// </summary>
public sealed class BlobMirrorRunClusterFixture : RunClusterFixture
{
    private readonly AzuriteFixture _azurite = new();
    private DeleteOutageStore? _store;

    public DeleteOutageStore Store => _store ?? throw new InvalidOperationException("The fixture is not initialized.");

    /// <summary>The retention of the cleaner the run grain gets next (read at every cleanup pass).</summary>
    public ArtifactRetention Retention { get; set; } = ArtifactRetention.DeleteWorkOnSuccess;

    public CapturedLogs Logs { get; } = new();

    public override async Task InitializeAsync()
    {
        await _azurite.InitializeAsync();
        var container = "runs-" + Guid.NewGuid().ToString("N")[..12];
        var unreachable = new BlobArtifactStoreOptions
        {
            ConnectionString = AzuriteFixture.ConnectionStringFor(AzuriteFixture.UnusedPort()),
            ContainerName = container,
            ClientOptions = new BlobClientOptions(),
        };
        unreachable.ClientOptions.Retry.MaxRetries = 0;
        _store = new DeleteOutageStore(
            new BlobArtifactStore(new BlobArtifactStoreOptions { ConnectionString = _azurite.ConnectionString, ContainerName = container }),
            new BlobArtifactStore(unreachable));
        await base.InitializeAsync();
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await _azurite.DisposeAsync();
    }

    /// <inheritdoc cref="MirrorRunClusterFixture.NewOneSourceRun"/>
    public (string Folder, string Spec) NewRun(string name) => MirrorRunClusterFixture.NewOneSourceRun(Root, name, epochs: 2);

    protected override void ConfigureSilo(ISiloBuilder silo)
    {
        silo.Services.AddSingleton<IArtifactStore>(_ => Store);
        silo.Services.AddSingleton<IRunArtifactMirrorFactory>(sp => new RunArtifactMirrorFactory(sp.GetRequiredService<IArtifactStore>()));
        // Transient, unlike the silo host's singleton, so that each test's Retention applies to its own run.
        silo.Services.AddTransient(sp => new RunArtifactCleaner(sp.GetRequiredService<IArtifactStore>(), Retention, TimeSpan.FromSeconds(20), sp.GetService<ILogger<RunArtifactCleaner>>()));
        silo.Services.AddSingleton<ILoggerProvider>(Logs);
    }
}
