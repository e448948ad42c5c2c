using FuseChat.Grains.Storage;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Hosting;

namespace FuseChat.Grains.Tests.Runs;

/// <summary>
/// As <see cref="RunClusterFixture"/>, with the artifact mirror on over a FileArtifactStore in a temporary folder, as a
/// cluster without a shared volume runs; runs have one source so that no other worker's notice wakes a stopped one.
/// </summary>
public sealed class MirrorRunClusterFixture : RunClusterFixture
{
    private FileArtifactStore? _store;
    private GatedArtifactStore? _gate;

    public FileArtifactStore Store => _store ??= new FileArtifactStore(Path.Combine(Root, "store"));

    /// <summary>The store as the silo sees it: open unless a test holds some uploads (and opens it again).</summary>
    public GatedArtifactStore Gate => _gate ??= new GatedArtifactStore(Store);

    protected override void ConfigureSilo(ISiloBuilder silo)
    {
        silo.Services.AddSingleton<IArtifactStore>(_ => Gate);
        silo.Services.AddSingleton<IRunArtifactMirrorFactory>(sp => new RunArtifactMirrorFactory(sp.GetRequiredService<IArtifactStore>()));
    }

    /// <summary>A fresh run folder with the chats and a one-source spec over the shared models.</summary>
    public (string Folder, string Spec) NewRun(string name, int epochs = 2) => NewOneSourceRun(Root, name, epochs);

    /// <summary>A fresh folder under <paramref name="root"/> with the chats and a one-source spec over the models in root/models.</summary>
    public static (string Folder, string Spec) NewOneSourceRun(string root, string name, int epochs) =>
        NewRunIn(root, name, ["llama3"], epochs: epochs);
}
