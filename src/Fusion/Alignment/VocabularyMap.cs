namespace FuseChat.Fusion.Alignment;

/// <summary>
/// Statistics-based map from source token ids to pivot token ids (METHOD.md stage 2c).
/// </summary>
public sealed class VocabularyMap
{
    // Edit distance is scaled by this when one stripped string contains the other ("fusion" / "fus").
    private const double ContainmentFactor = 0.1;

    private readonly int[] _pivotIds;
    private readonly bool[] _fromStatistics;

    private VocabularyMap(int[] pivotIds, bool[] fromStatistics)
    {
        _pivotIds = pivotIds;
        _fromStatistics = fromStatistics;
    }

    /// <summary>Number of source ids the map covers.</summary>
    public int Count => _pivotIds.Length;

    /// <summary>The pivot id for a source id; -1 when the pivot vocabulary has neither unk nor eos to fall back to.</summary>
    public int this[int sourceId] => _pivotIds[sourceId];

    /// <summary>True when the pivot id of <paramref name="sourceId"/> was chosen among co-occurring pivot tokens (or is BOS/EOS), not a fallback.</summary>
    public bool HasCandidate(int sourceId) => _fromStatistics[sourceId];

    /// <summary>
    /// For each source token s, among pivot tokens p with M[p, s] &gt; 0, picks the p minimising
    /// ed'(s, p) * sigmoid(M[p, s]); ed' is the edit distance of the stripped strings (source spelled in the
    /// pivot's convention), times 0.1 when one contains the other. Ties go to the lowest pivot id. Without a
    /// candidate the pivot's unk id, else its eos id. Source BOS maps to pivot BOS and EOS to EOS.
    /// </summary>
    /// <remarks>
    /// sigmoid of a count of at least 1 lies in (0.73, 1), so the count only separates candidates whose
    /// scaled distances are equal or nearly so; the formula is kept as the method states it.
    /// </remarks>
    public static VocabularyMap Build(CooccurrenceStatistics statistics, ITokenVocabulary pivotVocabulary, ITokenVocabulary sourceVocabulary)
    {
        ArgumentNullException.ThrowIfNull(statistics);
        ArgumentNullException.ThrowIfNull(pivotVocabulary);
        ArgumentNullException.ThrowIfNull(sourceVocabulary);
        var fallback = pivotVocabulary.UnkId ?? pivotVocabulary.EosId ?? -1;
        var pivotIds = new int[sourceVocabulary.Count];
        var fromStatistics = new bool[sourceVocabulary.Count];
        var bestScore = new double[sourceVocabulary.Count];
        Array.Fill(pivotIds, -1);
        Array.Fill(bestScore, double.PositiveInfinity);
        var sourceTexts = new string?[sourceVocabulary.Count];
        foreach (var (p, s, count) in statistics.Entries())
        {
            if ((uint)s >= (uint)pivotIds.Length || pivotVocabulary.IdToToken(p) is not { } pivotToken)
            {
                continue;
            }
            var sourceText = sourceTexts[s] ??= SourceInPivotSpelling(sourceVocabulary, pivotVocabulary, s);
            if (sourceText is null)
            {
                continue;
            }
            var score = Score(sourceText, pivotToken, count);
            // Entries arrive in ascending pivot id, so a strict comparison keeps the lowest id on ties.
            if (score < bestScore[s])
            {
                bestScore[s] = score;
                pivotIds[s] = p;
                fromStatistics[s] = true;
            }
        }
        for (var s = 0; s < pivotIds.Length; s++)
        {
            if (!fromStatistics[s])
            {
                pivotIds[s] = fallback;
            }
        }
        Pin(sourceVocabulary.BosId, pivotVocabulary.BosId, pivotIds, fromStatistics);
        Pin(sourceVocabulary.EosId, pivotVocabulary.EosId, pivotIds, fromStatistics);
        return new VocabularyMap(pivotIds, fromStatistics);
    }

    /// <summary>The score the map minimises for one candidate: ed'(s, p) * sigmoid(count).</summary>
    /// <param name="sourceToken">The source token, already spelled in the pivot's convention.</param>
    /// <param name="pivotToken">The pivot token.</param>
    /// <param name="count">M[p, s].</param>
    public static double Score(string sourceToken, string pivotToken, int count)
    {
        var (a, b) = TokenMarkers.ComparisonForms(sourceToken, pivotToken);
        double distance = EditDistance.Compute(a, b);
        if (a.Contains(b, StringComparison.Ordinal) || b.Contains(a, StringComparison.Ordinal))
        {
            distance *= ContainmentFactor;
        }
        return distance / (1.0 + Math.Exp(-(double)count));
    }

    private static string? SourceInPivotSpelling(ITokenVocabulary source, ITokenVocabulary pivot, int id) =>
        source.IdToToken(id) is { } token ? TokenMarkers.Convert(token, source.WordBoundaryMarker, pivot.WordBoundaryMarker) : null;

    private static void Pin(int? sourceId, int? pivotId, int[] pivotIds, bool[] fromStatistics)
    {
        if (sourceId is { } s && pivotId is { } p && (uint)s < (uint)pivotIds.Length)
        {
            pivotIds[s] = p;
            fromStatistics[s] = true;
        }
    }
}
