using System.Runtime.CompilerServices;
using FuseChat.Grains.Storage;

namespace FuseChat.Grains.Tests.Storage;

/// <summary>RunArtifactMirror over a FileArtifactStore in a temporary folder.</summary>
public sealed class RunArtifactMirrorTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("fusechat-mirror-").FullName;
    private readonly FileArtifactStore _store;
    private readonly RunArtifactMirror _mirror;

    public RunArtifactMirrorTests()
    {
        _store = new FileArtifactStore(Path.Combine(_root, "store"));
        _mirror = new RunArtifactMirror(_store, "run1", Path.Combine(_root, "out"));
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string Local(string relative) => Path.Combine(_root, "out", relative.Replace('/', Path.DirectorySeparatorChar));

    private void Write(string relative, int length, int seed = 1)
    {
        var path = Local(relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        File.WriteAllBytes(path, bytes);
    }

    private async Task<List<string>> StoredAsync(string prefix = "runs/run1/")
    {
        var found = new List<string>();
        await foreach (var item in _store.ListAsync(prefix)) found.Add(item.Path);
        return found;
    }

    [Fact]
    public async Task PushWipePullGivesByteIdenticalFiles()
    {
        Write("work/reps/pivot/shard-00000.bin", 3 << 20, seed: 1);
        Write("work/reps/pivot/manifest.json", 200, seed: 2);
        Write("work/reps/pivot/sub/deeper/part.bin", 0, seed: 3);
        var before = Directory.EnumerateFiles(Local("work/reps/pivot"), "*", SearchOption.AllDirectories)
            .ToDictionary(f => Path.GetRelativePath(Local("work/reps/pivot"), f), File.ReadAllBytes);

        Assert.Equal(3, await _mirror.PushAsync("work/reps/pivot"));
        Assert.Contains("runs/run1/work/reps/pivot/shard-00000.bin", await StoredAsync());
        Assert.Equal(0, await _mirror.PushAsync("work/reps/pivot"));

        Directory.Delete(Local("work"), recursive: true);
        Assert.Equal(3, await _mirror.PullAsync("work/reps/pivot"));
        var after = Directory.EnumerateFiles(Local("work/reps/pivot"), "*", SearchOption.AllDirectories)
            .ToDictionary(f => Path.GetRelativePath(Local("work/reps/pivot"), f), File.ReadAllBytes);
        Assert.Equal(before.Keys.Order(), after.Keys.Order());
        foreach (var (name, bytes) in before) Assert.Equal(bytes, after[name]);
        Assert.Equal(0, await _mirror.PullAsync("work/reps/pivot"));
    }

    [Fact]
    public async Task TemporariesAndSiblingFoldersAreNotPushed()
    {
        Write("work/aligned/a/shard.bin", 10);
        Write("work/aligned/a/shard.bin.1234.tmp", 10);
        Write("work/aligned/a/.model.safetensors.abcd.tmp", 10);
        Write("work/aligned/a/.tmp-checkpoint-00000002-ff/model.safetensors", 10);
        Write("work/aligned/a/download.part", 10);
        Write("work/aligned/ab/other.bin", 10);

        Assert.Equal(1, await _mirror.PushAsync("work/aligned/a"));
        Assert.Equal(["runs/run1/work/aligned/a/shard.bin"], await StoredAsync());

        // A folder whose own name starts with '.' (the merge's staging folder) is mirrored; only names below count.
        Write(".fused.merging/model-00001.safetensors", 10);
        Assert.Equal(1, await _mirror.PushAsync(".fused.merging"));
    }

    [Fact]
    public async Task OnlyTheNewestCompleteCheckpointIsPulled()
    {
        const string folder = "work/targets/llama3.checkpoints";
        foreach (var step in new[] { 2, 4, 10 })
        {
            var checkpoint = $"{folder}/checkpoint-{step:D8}";
            Write($"{checkpoint}/model.safetensors", 100, step);
            Write($"{checkpoint}/optimizer/model.safetensors", 100, step + 1);
            Write($"{checkpoint}/{RunArtifactMirror.CheckpointMarker}", 20, step + 2);
        }

        // Only the newest complete checkpoint is pushed: the one a restarted worker would pull.
        Assert.Equal(3, await _mirror.PushAsync(folder));
        Assert.All(await StoredAsync(), key => Assert.Contains("/checkpoint-00000010/", key, StringComparison.Ordinal));

        // A newer checkpoint still being written (no marker yet) is not pushed, and the stored one is not pushed again.
        Write($"{folder}/checkpoint-00000012/model.safetensors", 100, 12);
        Assert.Equal(0, await _mirror.PushAsync(folder));

        // A checkpoint of which the store holds all but the marker (an interrupted push) is completed by the next one.
        await _store.DeleteAsync($"runs/run1/{folder}/checkpoint-00000010/{RunArtifactMirror.CheckpointMarker}");
        Assert.Equal(1, await _mirror.PushAsync(folder));

        Directory.Delete(Local(folder), recursive: true);
        Assert.Equal(3, await _mirror.PullAsync(folder));
        Assert.Equal(["checkpoint-00000010"], Directory.EnumerateDirectories(Local(folder)).Select(Path.GetFileName));
        Assert.True(File.Exists(Local($"{folder}/checkpoint-00000010/optimizer/model.safetensors")));
        Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(_store.Folder, "runs", "run1", "work", "targets", "llama3.checkpoints", "checkpoint-00000010", RunArtifactMirror.CheckpointMarker)),
            await File.ReadAllBytesAsync(Local($"{folder}/checkpoint-00000010/{RunArtifactMirror.CheckpointMarker}")));

        Assert.Equal(3, (await StoredAsync("runs/run1/work/targets/llama3.checkpoints/")).Count);
    }

    /// <summary>
    /// The trainer keeps its last two checkpoints: while a slow upload of one goes on, training may write two more and
    /// delete it. Its files are held open from the start, so the store still gets the whole checkpoint. (Before, the
    /// files not yet uploaded were skipped as gone, the marker among them, and with training outpacing the uploads no
    /// checkpoint ever became whole in the store: a lost silo restarted its fusion from step 0.)
    /// </summary>
    [Fact]
    public async Task ACheckpointPrunedDuringItsUploadStillArrivesWhole()
    {
        const string folder = "work/targets/qwen3.checkpoints";
        var checkpoint = $"{folder}/checkpoint-00000020";
        Write($"{checkpoint}/model.safetensors", 3 << 20, 1);
        Write($"{checkpoint}/optimizer/model.safetensors", 2 << 20, 2);
        Write($"{checkpoint}/{RunArtifactMirror.CheckpointMarker}", 50, 3);
        var expected = Directory.EnumerateFiles(Local(checkpoint), "*", SearchOption.AllDirectories)
            .ToDictionary(f => Path.GetRelativePath(Local(checkpoint), f).Replace(Path.DirectorySeparatorChar, '/'), File.ReadAllBytes);
        var pruning = new PruningStore(_store, () => Directory.Delete(Local(checkpoint), recursive: true));
        var mirror = new RunArtifactMirror(pruning, "run1", Path.Combine(_root, "out"));

        Assert.Equal(3, await mirror.PushAsync(folder));

        Assert.False(Directory.Exists(Local(checkpoint)));
        foreach (var (relative, bytes) in expected)
            Assert.Equal(bytes, await File.ReadAllBytesAsync(Path.Combine(_store.Folder, "runs", "run1", "work", "targets", "qwen3.checkpoints", "checkpoint-00000020", relative)));
        // And a restarted worker finds it.
        Assert.Equal(3, await _mirror.PullAsync(folder));
        Assert.True(File.Exists(Local($"{checkpoint}/{RunArtifactMirror.CheckpointMarker}")));
    }

    [Fact]
    public async Task AFileOfAnotherSizeIsUploadedAgainAndPulledAgain()
    {
        Write("report.json", 100, seed: 1);
        Assert.Equal(1, await _mirror.PushAsync("report.json"));
        Write("report.json", 150, seed: 2);
        Assert.Equal(1, await _mirror.PushAsync("report.json"));
        var stored = await File.ReadAllBytesAsync(Path.Combine(_store.Folder, "runs", "run1", "report.json"));
        Assert.Equal(await File.ReadAllBytesAsync(Local("report.json")), stored);

        Write("report.json", 10, seed: 3);
        Assert.Equal(1, await _mirror.PullAsync("report.json"));
        Assert.Equal(stored, await File.ReadAllBytesAsync(Local("report.json")));
    }

    [Fact]
    public async Task MetadataIsPushedAfterTheDataItDescribes()
    {
        var recording = new RecordingStore(_store);
        var mirror = new RunArtifactMirror(recording, "run1", Path.Combine(_root, "out"));
        Write("work/targets/a/config.json", 10);
        Write("work/targets/a/model.safetensors", 10);
        Write("work/targets/a/tokenizer.json", 10);
        await mirror.PushAsync("work/targets/a");
        Assert.Equal("runs/run1/work/targets/a/config.json", recording.Written[^1]);
    }

    [Fact]
    public async Task AStorageOutageFailsNamingTheArtifact()
    {
        Write("work/targets/a/model.safetensors", 10);
        var failing = new RunArtifactMirror(new FailingStore(), "run1", Path.Combine(_root, "out"), TimeSpan.FromMilliseconds(300));
        var push = await Assert.ThrowsAsync<StorageOperationException>(() => failing.PushAsync("work/targets/a"));
        Assert.Contains("runs/run1/work/targets/a", push.Message);

        // A store that never answers fails after the stall timeout instead of hanging.
        var hanging = new RunArtifactMirror(new FailingStore { Hang = true }, "run1", Path.Combine(_root, "out"), TimeSpan.FromMilliseconds(300));
        var pull = await Assert.ThrowsAsync<StorageOperationException>(() => hanging.PullAsync("work/targets/a")).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Contains("runs/run1/work/targets/a", pull.Message);
        Assert.Contains("no progress", pull.Message);
    }

    private sealed class RecordingStore(IArtifactStore inner) : IArtifactStore
    {
        public List<string> Written { get; } = [];

        public ArtifactTransferCounters Counters => inner.Counters;

        public Task<ArtifactWriteStream> OpenWriteAsync(string path, CancellationToken cancellationToken = default)
        {
            Written.Add(path);
            return inner.OpenWriteAsync(path, cancellationToken);
        }

        public Task<Stream> OpenReadAsync(string path, CancellationToken cancellationToken = default) => inner.OpenReadAsync(path, cancellationToken);

        public Task<bool> ExistsAsync(string path, CancellationToken cancellationToken = default) => inner.ExistsAsync(path, cancellationToken);

        public IAsyncEnumerable<ArtifactInfo> ListAsync(string prefix, CancellationToken cancellationToken = default) => inner.ListAsync(prefix, cancellationToken);

        public Task<bool> DeleteAsync(string path, CancellationToken cancellationToken = default) => inner.DeleteAsync(path, cancellationToken);
    }

    /// <summary>Runs <paramref name="prune"/> when the first upload starts, as a trainer deleting an old checkpoint would.</summary>
    private sealed class PruningStore(IArtifactStore inner, Action prune) : IArtifactStore
    {
        private Action? _prune = prune;

        public ArtifactTransferCounters Counters => inner.Counters;

        public Task<ArtifactWriteStream> OpenWriteAsync(string path, CancellationToken cancellationToken = default)
        {
            Interlocked.Exchange(ref _prune, null)?.Invoke();
            return inner.OpenWriteAsync(path, cancellationToken);
        }

        public Task<Stream> OpenReadAsync(string path, CancellationToken cancellationToken = default) => inner.OpenReadAsync(path, cancellationToken);

        public Task<bool> ExistsAsync(string path, CancellationToken cancellationToken = default) => inner.ExistsAsync(path, cancellationToken);

        public IAsyncEnumerable<ArtifactInfo> ListAsync(string prefix, CancellationToken cancellationToken = default) => inner.ListAsync(prefix, cancellationToken);

        public Task<bool> DeleteAsync(string path, CancellationToken cancellationToken = default) => inner.DeleteAsync(path, cancellationToken);
    }

    private sealed class FailingStore : IArtifactStore
    {
        public bool Hang { get; init; }

        public ArtifactTransferCounters Counters { get; } = new();

        public Task<ArtifactWriteStream> OpenWriteAsync(string path, CancellationToken cancellationToken = default) =>
            throw new StorageOperationException("connection refused");

        public Task<Stream> OpenReadAsync(string path, CancellationToken cancellationToken = default) => throw new StorageOperationException("connection refused");

        public Task<bool> ExistsAsync(string path, CancellationToken cancellationToken = default) => throw new StorageOperationException("connection refused");

        public async IAsyncEnumerable<ArtifactInfo> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            if (Hang) await Task.Delay(Timeout.Infinite, cancellationToken);
            await Task.Yield();
            yield break;
        }

        public Task<bool> DeleteAsync(string path, CancellationToken cancellationToken = default) => throw new StorageOperationException("connection refused");
    }
}
