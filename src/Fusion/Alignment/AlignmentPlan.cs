namespace FuseChat.Fusion.Alignment;

/// <summary>Decides whether a source needs token alignment at all.</summary>
public static class AlignmentPlan
{
    /// <summary>
    /// True when both vocabularies have the same size and the same token string for every id: the source's
    /// top-K is then already over the pivot vocabulary and stage 2 is skipped.
    /// </summary>
    public static bool IsIdentity(ITokenVocabulary pivotVocabulary, ITokenVocabulary sourceVocabulary)
    {
        ArgumentNullException.ThrowIfNull(pivotVocabulary);
        ArgumentNullException.ThrowIfNull(sourceVocabulary);
        if (ReferenceEquals(pivotVocabulary, sourceVocabulary))
        {
            return true;
        }
        if (pivotVocabulary.Count != sourceVocabulary.Count)
        {
            return false;
        }
        for (var id = 0; id < pivotVocabulary.Count; id++)
        {
            if (!string.Equals(pivotVocabulary.IdToToken(id), sourceVocabulary.IdToToken(id), StringComparison.Ordinal))
            {
                return false;
            }
        }
        return true;
    }
}
