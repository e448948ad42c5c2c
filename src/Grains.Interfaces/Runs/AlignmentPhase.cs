namespace FuseChat.Grains.Interfaces.Runs;

/// <summary>The two passes of a source's alignment, each done shard by shard.</summary>
public enum AlignmentPhase
{
    /// <summary>Pass 1: DTW over the shard's conversations, counting co-occurring token pairs.</summary>
    Count,

    /// <summary>Pass 2: the shard's source distributions mapped onto the pivot's positions and vocabulary.</summary>
    Align,
}
