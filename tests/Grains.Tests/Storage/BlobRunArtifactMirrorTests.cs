using FuseChat.Grains.Storage;

namespace FuseChat.Grains.Tests.Storage;

/// <summary>RunArtifactMirror over a BlobArtifactStore on Azurite.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class BlobRunArtifactMirrorTests(AzuriteFixture azurite) : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("fusechat-blob-mirror-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task PushWipePullGivesByteIdenticalFilesAndTheNewestCheckpoint()
    {
        var store = new BlobArtifactStore(new BlobArtifactStoreOptions
        {
            ConnectionString = azurite.ConnectionString,
            ContainerName = "mirror-" + Guid.NewGuid().ToString("N")[..12],
            BlockSize = 1024 * 1024,
        });
        var output = Path.Combine(_root, "out");
        var mirror = new RunArtifactMirror(store, "run-blob", output);
        var files = new Dictionary<string, byte[]>
        {
            // Over two blocks, so the upload stages several.
            ["work/targets/s/model.safetensors"] = RandomBytes(2_500_000, 1),
            ["work/targets/s/config.json"] = RandomBytes(300, 2),
            ["work/targets/s.checkpoints/checkpoint-00000002/model.safetensors"] = RandomBytes(1000, 3),
            ["work/targets/s.checkpoints/checkpoint-00000002/trainer_state.json"] = RandomBytes(50, 4),
            ["work/targets/s.checkpoints/checkpoint-00000004/model.safetensors"] = RandomBytes(1000, 5),
            ["work/targets/s.checkpoints/checkpoint-00000004/trainer_state.json"] = RandomBytes(50, 6),
        };
        foreach (var (relative, bytes) in files)
        {
            var path = Path.Combine(output, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            await File.WriteAllBytesAsync(path, bytes);
        }

        Assert.Equal(2, await mirror.PushAsync("work/targets/s"));
        // Only the newest checkpoint goes: the one a restarted worker pulls.
        Assert.Equal(2, await mirror.PushAsync("work/targets/s.checkpoints"));
        Assert.False(await store.ExistsAsync("runs/run-blob/work/targets/s.checkpoints/checkpoint-00000002/trainer_state.json"));
        Assert.True(await store.ExistsAsync("runs/run-blob/work/targets/s/model.safetensors"));

        Directory.Delete(output, recursive: true);
        Assert.Equal(2, await mirror.PullAsync("work/targets/s"));
        Assert.Equal(2, await mirror.PullAsync("work/targets/s.checkpoints"));
        foreach (var (relative, bytes) in files.Where(f => !f.Key.Contains("checkpoint-00000002", StringComparison.Ordinal)))
            Assert.Equal(bytes, await File.ReadAllBytesAsync(Path.Combine(output, relative)));
        Assert.False(Directory.Exists(Path.Combine(output, "work", "targets", "s.checkpoints", "checkpoint-00000002")));
    }

    private static byte[] RandomBytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }
}
