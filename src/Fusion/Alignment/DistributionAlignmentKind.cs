namespace FuseChat.Fusion.Alignment;

/// <summary>Which rule of METHOD.md stage 2d produced the target distribution of a pivot position.</summary>
public enum DistributionAlignmentKind
{
    /// <summary>The last pivot position: there is no next token to predict, so no target.</summary>
    NoTarget = 0,

    /// <summary>One source token aligned; one stripped string ends with the other.</summary>
    OneToOne,

    /// <summary>Several source tokens aligned; the first whose string is a suffix match was used.</summary>
    ManyToOneSuffix,

    /// <summary>Several source tokens aligned that concatenate to the pivot token; the last piece's distribution was used.</summary>
    GreedySplit,

    /// <summary>No usable source distribution: one-hot on the pivot's gold next token.</summary>
    OneHot,
}
