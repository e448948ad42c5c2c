using FuseChat.Grains.Storage;

namespace FuseChat.Grains.Tests.Storage;

public sealed class FileArtifactStoreTests : ArtifactStoreContractTests, IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("artifacts-").FullName;

    public FileArtifactStoreTests() => Store = new FileArtifactStore(_folder);

    protected override IArtifactStore Store { get; }

    protected override Task AssertNoLeftoversAsync()
    {
        Assert.Empty(Directory.GetFiles(_folder, "*", SearchOption.AllDirectories));
        return Task.CompletedTask;
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}
