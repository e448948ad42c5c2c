using System.Security.Cryptography;
using FuseChat.Grains.Storage;

namespace FuseChat.Grains.Tests.Storage;

/// <summary>The artifact store contract, run against every implementation.</summary>
public abstract class ArtifactStoreContractTests
{
    private const int MiB = 1024 * 1024;

    protected abstract IArtifactStore Store { get; }

    /// <summary>Asserts that an abandoned upload left nothing behind in the backing store (temporary files, blobs).</summary>
    protected abstract Task AssertNoLeftoversAsync();

    private static byte[] RandomBytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private static async Task<byte[]> ReadAllAsync(IArtifactStore store, string path)
    {
        await using var stream = await store.OpenReadAsync(path);
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy);
        return copy.ToArray();
    }

    [Fact]
    public async Task A_20_MiB_stream_uploads_in_blocks_lists_and_reads_back_identical()
    {
        var data = RandomBytes(20 * MiB + 12345, seed: 1);
        const string path = "runs/r1/checkpoints/step-100/model.safetensors";
        var writtenBefore = Store.Counters.BytesWritten;
        await using (var upload = await Store.OpenWriteAsync(path))
        {
            // Uneven chunks, so block boundaries fall inside writes.
            for (var offset = 0; offset < data.Length;)
            {
                var chunk = Math.Min(3 * MiB + 17, data.Length - offset);
                await upload.WriteAsync(data.AsMemory(offset, chunk));
                offset += chunk;
            }

            Assert.False(await Store.ExistsAsync(path));
            await upload.CommitAsync();
            Assert.True(upload.IsCommitted);
        }

        Assert.True(await Store.ExistsAsync(path));
        Assert.Equal(data.Length, Store.Counters.BytesWritten - writtenBefore);

        var listed = new List<ArtifactInfo>();
        await foreach (var item in Store.ListAsync("runs/r1/"))
        {
            listed.Add(item);
        }

        var info = Assert.Single(listed);
        Assert.Equal(path, info.Path);
        Assert.Equal(data.Length, info.Length);

        var readBefore = Store.Counters.BytesRead;
        var back = await ReadAllAsync(Store, path);
        Assert.Equal(SHA256.HashData(data), SHA256.HashData(back));
        Assert.Equal(data.Length, Store.Counters.BytesRead - readBefore);
    }

    [Fact]
    public async Task An_upload_disposed_without_commit_leaves_nothing()
    {
        const string path = "runs/r2/shards/shard-0.arrow";
        await using (var upload = await Store.OpenWriteAsync(path))
        {
            await upload.WriteAsync(RandomBytes(10 * MiB, seed: 2));
        }

        Assert.False(await Store.ExistsAsync(path));
        await foreach (var item in Store.ListAsync("runs/r2/"))
        {
            Assert.Fail($"unexpected artifact {item.Path}");
        }

        await Assert.ThrowsAsync<FileNotFoundException>(() => Store.OpenReadAsync(path));
        await AssertNoLeftoversAsync();
    }

    [Fact]
    public async Task An_abandoned_replacement_keeps_the_previous_artifact()
    {
        const string path = "merged/model.safetensors";
        var original = RandomBytes(2 * MiB, seed: 3);
        await using (var upload = await Store.OpenWriteAsync(path))
        {
            await upload.WriteAsync(original);
            await upload.CommitAsync();
        }

        var upload2 = await Store.OpenWriteAsync(path);
        await upload2.WriteAsync(RandomBytes(3 * MiB, seed: 4));
        upload2.Dispose();

        Assert.Equal(original, await ReadAllAsync(Store, path));

        var replacement = RandomBytes(MiB / 2, seed: 5);
        await using (var upload3 = await Store.OpenWriteAsync(path))
        {
            upload3.Write(replacement, 0, replacement.Length);
            await upload3.CommitAsync();
        }

        Assert.Equal(replacement, await ReadAllAsync(Store, path));
    }

    [Fact]
    public async Task Empty_artifacts_delete_and_missing_reads()
    {
        await using (var upload = await Store.OpenWriteAsync("empty/marker"))
        {
            await upload.CommitAsync();
        }

        Assert.Empty(await ReadAllAsync(Store, "empty/marker"));
        Assert.True(await Store.DeleteAsync("empty/marker"));
        Assert.False(await Store.DeleteAsync("empty/marker"));
        Assert.False(await Store.ExistsAsync("empty/marker"));
        await Assert.ThrowsAsync<FileNotFoundException>(() => Store.OpenReadAsync("empty/marker"));
    }

    [Theory]
    [InlineData("/abs")]
    [InlineData("a/../b")]
    [InlineData("a//b")]
    [InlineData("a\\b")]
    [InlineData("trailing/")]
    public async Task Paths_that_could_escape_or_mean_two_things_are_refused(string path)
    {
        await Assert.ThrowsAsync<ArgumentException>(() => Store.OpenWriteAsync(path));
    }

    [Fact]
    public async Task Folders_upload_and_download_byte_identical()
    {
        var source = Directory.CreateTempSubdirectory("model-").FullName;
        var target = Directory.CreateTempSubdirectory("model-copy-").FullName;
        try
        {
            await File.WriteAllTextAsync(Path.Combine(source, "config.json"), "{\"model_type\":\"llama\"}");
            await File.WriteAllBytesAsync(Path.Combine(source, "model.safetensors"), RandomBytes(3 * MiB + 1, seed: 6));
            Directory.CreateDirectory(Path.Combine(source, "sub"));
            await File.WriteAllBytesAsync(Path.Combine(source, "sub", "tokenizer.json"), RandomBytes(1000, seed: 7));

            Assert.Equal(3, await Store.UploadFolderAsync(source, "models/fused"));
            Assert.Equal(3, await Store.DownloadFolderAsync("models/fused", target));

            foreach (var file in Directory.GetFiles(source, "*", SearchOption.AllDirectories))
            {
                var copy = Path.Combine(target, Path.GetRelativePath(source, file));
                Assert.Equal(await File.ReadAllBytesAsync(file), await File.ReadAllBytesAsync(copy));
            }

            Assert.Equal(3, Directory.GetFiles(target, "*", SearchOption.AllDirectories).Length);
        }
        finally
        {
            Directory.Delete(source, recursive: true);
            Directory.Delete(target, recursive: true);
        }
    }
}
