using FuseChat.Grains.Storage;

namespace FuseChat.Grains.Tests.Storage;

public sealed class PartFileTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("fusechat-partfile-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public async Task A_failed_write_leaves_the_old_file_and_no_part_file()
    {
        var path = Path.Combine(_folder, "sub", "model.safetensors");
        await PartFile.WriteAsync(path, s => s.WriteAsync(new byte[] { 1, 2, 3 }).AsTask());
        Assert.Equal([1, 2, 3], await File.ReadAllBytesAsync(path));

        var e = await Assert.ThrowsAsync<IOException>(() => PartFile.WriteAsync(path, async s =>
        {
            await s.WriteAsync(new byte[] { 9, 9 });
            throw new IOException("connection lost");
        }));
        Assert.Equal("connection lost", e.Message);
        Assert.Equal([1, 2, 3], await File.ReadAllBytesAsync(path));
        Assert.Equal(["model.safetensors"], Directory.GetFiles(Path.GetDirectoryName(path)!).Select(Path.GetFileName));
        Assert.True(RunArtifactMirror.IsTemporary("sub/model.safetensors.0123" + PartFile.Suffix));
    }
}
