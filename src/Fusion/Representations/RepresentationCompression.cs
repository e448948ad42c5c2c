namespace FuseChat.Fusion.Representations;

/// <summary>How the buffers of representation shards are compressed (Arrow IPC buffer compression).</summary>
public enum RepresentationCompression
{
    /// <summary>Plain buffers: readable by every Arrow implementation, including JavaScript's.</summary>
    None,

    /// <summary>ZSTD-compressed buffers: smaller; read by pyarrow, Arrow C++ and Apache.Arrow with a codec factory.</summary>
    Zstd,
}
