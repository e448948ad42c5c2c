using FuseChat.Grains.Storage;

namespace FuseChat.Client.Api;

/// <summary>
/// Whole files and folders to and from the silos' artifact store through <see cref="FuseChatApiClient"/>, resumable:
/// a file already on the other side with the same length is skipped, so running the same command again after an
/// interruption sends only what is missing. Files go in the run mirror's order (<see cref="RunArtifactMirror.TransferOrder"/>):
/// a folder's config.json last, so that a model folder whose transfer broke off has none, and is refused by a run
/// (and by <c>PretrainedModel.Load</c>) instead of read half.
/// </summary>
public static class ArtifactTransfer
{
    /// <summary>
    /// Uploads <paramref name="localPath"/> (a file, or a folder's files under their relative paths) to
    /// <paramref name="artifactPath"/>. Files whose path has a segment starting with '.' are left out.
    /// </summary>
    public static async Task<TransferSummary> UploadAsync(FuseChatApiClient client, string localPath, string artifactPath, bool force = false,
        IProgress<TransferProgress>? progress = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        artifactPath = Normalize(artifactPath);
        List<(string Local, string Remote)> files;
        var hidden = 0;
        if (File.Exists(localPath))
        {
            files = [(Path.GetFullPath(localPath), artifactPath)];
        }
        else if (Directory.Exists(localPath))
        {
            var root = Path.GetFullPath(localPath);
            var all = Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
                .Select(f => (Local: f, Relative: Path.GetRelativePath(root, f).Replace(Path.DirectorySeparatorChar, '/')))
                .ToList();
            hidden = all.Count(f => IsHidden(f.Relative));
            files = [.. RunArtifactMirror.TransferOrder(all.Where(f => !IsHidden(f.Relative)).Select(f => (f.Local, Remote: $"{artifactPath}/{f.Relative}")), f => f.Remote)];
            if (files.Count == 0) throw new FileNotFoundException($"{localPath} holds no files to upload", localPath);
        }
        else
        {
            throw new FileNotFoundException($"{localPath} is neither a file nor a folder", localPath);
        }

        var stored = (await client.ListArtifactsAsync(artifactPath, cancellation)).ToDictionary(a => a.Path, a => a.Length, StringComparer.Ordinal);
        var summary = await RunAsync([.. files.Select(f =>
        {
            var length = new FileInfo(f.Local).Length;
            return new Item(f.Remote, length, !force && stored.TryGetValue(f.Remote, out var l) && l == length,
                report => client.UploadArtifactAsync(f.Local, f.Remote, report, cancellation));
        })], hidden, progress);
        var uploaded = files.Select(f => f.Remote).ToHashSet(StringComparer.Ordinal);
        return summary with
        {
            Extra = [.. stored.Keys.Where(k => k.StartsWith(artifactPath + "/", StringComparison.Ordinal) && !uploaded.Contains(k)).Order(StringComparer.Ordinal)],
        };
    }

    /// <summary>
    /// Downloads the artifacts under <paramref name="artifactPath"/>/ into <paramref name="localFolder"/> under their
    /// relative paths, or, when <paramref name="artifactPath"/> is one artifact, that file into the folder.
    /// </summary>
    /// <exception cref="FileNotFoundException">Nothing is stored at or under <paramref name="artifactPath"/>.</exception>
    public static async Task<TransferSummary> DownloadAsync(FuseChatApiClient client, string artifactPath, string localFolder,
        IProgress<TransferProgress>? progress = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        artifactPath = Normalize(artifactPath);
        var root = Path.GetFullPath(localFolder);
        var listed = await client.ListArtifactsAsync(artifactPath, cancellation);
        var under = listed.Where(a => a.Path.StartsWith(artifactPath + "/", StringComparison.Ordinal))
            .Select(a => (a.Path, a.Length, Local: Path.Combine(root, a.Path[(artifactPath.Length + 1)..]))).ToList();
        if (under.Count == 0)
        {
            under = [.. listed.Where(a => a.Path == artifactPath).Select(a => (a.Path, a.Length, Local: Path.Combine(root, a.Path.Split('/')[^1])))];
        }

        if (under.Count == 0) throw new FileNotFoundException($"nothing is stored at or under artifact:{artifactPath}", artifactPath);
        return await RunAsync([.. RunArtifactMirror.TransferOrder(under, a => a.Path).Select(a => new Item(a.Path, a.Length,
            File.Exists(a.Local) && new FileInfo(a.Local).Length == a.Length,
            report => client.DownloadArtifactAsync(a.Path, a.Local, report, cancellation)))], 0, progress);
    }

    private static async Task<TransferSummary> RunAsync(IReadOnlyList<Item> items, int hidden, IProgress<TransferProgress>? progress)
    {
        var total = items.Sum(i => i.Length);
        long done = 0, moved = 0;
        int finished = 0, transferred = 0, skipped = 0;
        foreach (var (path, length, skip, transfer) in items)
        {
            progress?.Report(new TransferProgress(path, finished, items.Count, done, total));
            if (skip)
            {
                skipped++;
            }
            else
            {
                var before = done;
                await transfer(new SynchronousProgress<long>(bytes => progress?.Report(new TransferProgress(path, finished, items.Count, before + bytes, total))));
                transferred++;
                moved += length;
            }

            done += length;
            finished++;
        }

        progress?.Report(new TransferProgress("", finished, items.Count, done, total));
        return new TransferSummary(transferred, skipped, moved, hidden);
    }

    /// <summary>One file to move: its artifact path, its length, whether the other side has it already, and how to move it.</summary>
    private sealed record Item(string Path, long Length, bool Skip, Func<IProgress<long>, Task> Transfer);

    /// <summary>"artifact:models/x/" and "models/x" name the same place: the second.</summary>
    internal static string Normalize(string artifactPath)
    {
        var path = artifactPath.StartsWith("artifact:", StringComparison.Ordinal) ? artifactPath["artifact:".Length..] : artifactPath;
        return ArtifactPaths.Validate(path.Trim('/'));
    }

    private static bool IsHidden(string relative) => relative.Split('/').Any(s => s.StartsWith('.'));

}
