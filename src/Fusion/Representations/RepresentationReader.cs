namespace FuseChat.Fusion.Representations;

/// <summary>
/// Streams the conversations of a representation folder back, shard by shard in data-file order,
/// for the alignment and training stages. Only shards the manifest lists as complete are read.
/// </summary>
public sealed class RepresentationReader
{
    private RepresentationReader(string folder, RepresentationManifest manifest)
    {
        Folder = folder;
        Manifest = manifest;
    }

    /// <summary>The representation folder.</summary>
    public string Folder { get; }

    /// <summary>Its manifest.</summary>
    public RepresentationManifest Manifest { get; }

    /// <summary>Opens a folder written by <see cref="RepresentationRunner"/>.</summary>
    /// <exception cref="FileNotFoundException">The folder has no manifest.</exception>
    public static RepresentationReader Open(string folder)
    {
        var path = Path.Combine(folder, RepresentationManifest.FileName);
        if (!File.Exists(path)) throw new FileNotFoundException($"{folder} has no {RepresentationManifest.FileName}: not a representation folder", path);
        return new RepresentationReader(folder, RepresentationManifest.Load(path));
    }

    /// <summary>Every stored conversation, in data-file order.</summary>
    public IEnumerable<ConversationRepresentation> ReadAll() =>
        Manifest.Shards.OrderBy(s => s.Index).SelectMany(s => ReadShard(Path.Combine(Folder, s.File)));

    /// <summary>The conversations of one shard file (compressed or not).</summary>
    /// <param name="path">Path of a shard-NNNNN.arrow file.</param>
    public static IEnumerable<ConversationRepresentation> ReadShard(string path) => RepresentationShardFile.Read(path);
}
