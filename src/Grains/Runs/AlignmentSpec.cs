namespace FuseChat.Grains.Runs;

/// <summary>Stage 2 settings (YAML section <c>alignment</c>).</summary>
public sealed record AlignmentSpec
{
    /// <summary><c>threads</c>: DTW threads per source; -1 = all cores.</summary>
    public int Threads { get; init; } = -1;
}
