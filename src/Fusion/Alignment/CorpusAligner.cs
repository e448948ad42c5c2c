namespace FuseChat.Fusion.Alignment;

/// <summary>
/// Aligns many conversations (pivot ids, source ids) in parallel and counts their co-occurrences
/// (METHOD.md stage 2a and 2b).
/// </summary>
/// <remarks>
/// Results do not depend on the degree of parallelism: each conversation's alignment is a pure function of its
/// tokens and lands in its own slot, and counts are sums merged from per-thread partials.
/// </remarks>
public sealed class CorpusAligner
{
    private readonly ITokenVocabulary _pivot;
    private readonly ITokenVocabulary _source;
    // Token strings by id, source ones already in the pivot's spelling; filled lazily (benign races: same value).
    private readonly string?[] _pivotText;
    private readonly string?[] _sourceText;
    // DTW tokens by id, for the current token registry generation.
    private readonly DtwVocabularyTokens _pivotTokens;
    private readonly DtwVocabularyTokens _sourceTokens;

    /// <summary>Creates an aligner for one (pivot, source) vocabulary pair.</summary>
    /// <param name="pivotVocabulary">The pivot model's vocabulary.</param>
    /// <param name="sourceVocabulary">The source model's vocabulary.</param>
    /// <param name="maxDegreeOfParallelism">Most conversations aligned at once; -1 for one per core.</param>
    public CorpusAligner(ITokenVocabulary pivotVocabulary, ITokenVocabulary sourceVocabulary, int maxDegreeOfParallelism = -1)
    {
        ArgumentNullException.ThrowIfNull(pivotVocabulary);
        ArgumentNullException.ThrowIfNull(sourceVocabulary);
        if (maxDegreeOfParallelism == 0 || maxDegreeOfParallelism < -1)
        {
            throw new ArgumentOutOfRangeException(nameof(maxDegreeOfParallelism), "Use -1 or a positive number.");
        }
        _pivot = pivotVocabulary;
        _source = sourceVocabulary;
        _pivotText = new string?[pivotVocabulary.Count];
        _sourceText = new string?[sourceVocabulary.Count];
        _pivotTokens = new DtwVocabularyTokens("pivot", pivotVocabulary.Count, PivotText);
        _sourceTokens = new DtwVocabularyTokens("source", sourceVocabulary.Count, SourceText);
        MaxDegreeOfParallelism = maxDegreeOfParallelism;
    }

    /// <summary>Most conversations aligned at once; -1 for one per core.</summary>
    public int MaxDegreeOfParallelism { get; }

    /// <summary>
    /// Aligns every pair and adds its aligned (pivot id, source id) cells to <paramref name="statistics"/>.
    /// </summary>
    /// <returns>The alignment of each pair, in input order.</returns>
    public TokenAlignment[] Align(IReadOnlyList<(int[] PivotIds, int[] SourceIds)> pairs, CooccurrenceStatistics statistics,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        ArgumentNullException.ThrowIfNull(statistics);
        var alignments = new TokenAlignment[pairs.Count];
        var options = new ParallelOptions { MaxDegreeOfParallelism = MaxDegreeOfParallelism, CancellationToken = cancellationToken };
        Parallel.For(0, pairs.Count, options,
            () => new CooccurrenceStatistics(),
            (k, _, local) =>
            {
                var (pivotIds, sourceIds) = pairs[k];
                var alignment = AlignOne(pivotIds, sourceIds);
                alignments[k] = alignment;
                local.AddAlignment(pivotIds, sourceIds, alignment);
                local.Conversations++;
                return local;
            },
            statistics.Merge);
        return alignments;
    }

    /// <summary>Aligns one conversation's token ids by DTW over their strings.</summary>
    public TokenAlignment AlignOne(int[] pivotIds, int[] sourceIds)
    {
        ArgumentNullException.ThrowIfNull(pivotIds);
        ArgumentNullException.ThrowIfNull(sourceIds);
        // One registry generation for the whole conversation: its tokens' ids must be comparable.
        var registry = DtwTokenRegistry.Current;
        return DynamicTimeWarping.Align(registry, _pivotTokens.Of(registry, pivotIds), _sourceTokens.Of(registry, sourceIds));
    }

    private string PivotText(int id) =>
        _pivotText[id] ??= _pivot.IdToToken(id) ?? throw new ArgumentOutOfRangeException(nameof(id), id, "Not a pivot token id.");

    private string SourceText(int id) =>
        _sourceText[id] ??= _source.IdToToken(id) is { } token
            ? TokenMarkers.Convert(token, _source.WordBoundaryMarker, _pivot.WordBoundaryMarker)
            : throw new ArgumentOutOfRangeException(nameof(id), id, "Not a source token id.");
}
