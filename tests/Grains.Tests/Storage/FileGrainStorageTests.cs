using FuseChat.Grains.Storage;
using Orleans;
using Orleans.Runtime;
using Orleans.Storage;

namespace FuseChat.Grains.Tests.Storage;

public sealed class FileGrainStorageTests : GrainStorageContractTests, IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("grainstate-").FullName;

    protected override IGrainStorage CreateStorage(bool deleteStateOnClear = true) =>
        new FileGrainStorage("test", new FileGrainStorageOptions { Folder = _folder, DeleteStateOnClear = deleteStateOnClear }, TestSerialization.Json, TestSerialization.Activators);

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public async Task States_are_readable_JSON_files_and_no_temporary_file_remains()
    {
        var storage = CreateStorage();
        var state = new GrainState<RunState>(TestSerialization.Sample());
        for (var i = 0; i < 3; i++)
        {
            state.State = state.State! with { Stage = i };
            await storage.WriteStateAsync("run", GrainId.Create("fusionrun", "files"), state);
        }

        var file = Assert.Single(Directory.GetFiles(_folder));
        Assert.Equal("run-fusionrun~2Ffiles.json", Path.GetFileName(file));
        using var json = System.Text.Json.JsonDocument.Parse(await File.ReadAllBytesAsync(file));
        Assert.Equal(state.ETag, json.RootElement.GetProperty("etag").GetString());
        var stored = json.RootElement.GetProperty("state");
        var name = stored.TryGetProperty("Name", out var n) ? n : stored.GetProperty("name");
        Assert.Equal("run-1", name.GetString());
    }

    [Fact]
    public void Options_without_a_folder_say_what_to_set()
    {
        var e = Assert.Throws<OrleansConfigurationException>(() => new FileGrainStorage("local", new FileGrainStorageOptions(), TestSerialization.Json));
        Assert.Contains("Folder", e.Message, StringComparison.Ordinal);
    }
}
