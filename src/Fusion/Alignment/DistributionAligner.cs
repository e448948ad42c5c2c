namespace FuseChat.Fusion.Alignment;

/// <summary>
/// Turns a source model's per-position top-K distributions into targets over the pivot vocabulary for each
/// pivot position (METHOD.md stage 2d).
/// </summary>
/// <remarks>
/// <para>The off-by-one. Logits at position t predict token t+1, while the DTW alignment pairs input tokens.
/// The target for pivot position i must predict P[i+1]; the source distribution that predicts a source token
/// S[j+1] sits at j. So the rules below are applied to the alignment of the next tokens: for pivot position i
/// they look at the source positions j' aligned to P[i+1] and take the distribution at j' - 1 (the one that
/// predicts S[j']). The public code applied the rules to P[i] and used the distribution at j, i.e. it compared
/// the inputs but copied a prediction of the following token, which only agrees when the next tokens align
/// one-to-one too. A j' of 0 has no predicting position and is skipped.</para>
/// <para>Rules, with strings compared stripped of markers and the source spelled in the pivot's convention:
/// one aligned source token whose string ends with the pivot's or vice versa: its distribution; several: the
/// first whose string ends with the whole pivot string; else, when the pieces split the pivot string greedily
/// and concatenate to it, the last piece's; otherwise one-hot on P[i+1]. Source ids map to pivot ids by exact
/// string, else through the <see cref="VocabularyMap"/>; a pivot id that repeats keeps its first (highest) logit.</para>
/// </remarks>
public sealed class DistributionAligner
{
    /// <summary>
    /// Logit of the single entry of a one-hot target. Only listed ids carry mass, so any value is one-hot; a large
    /// one stays one-hot even if a consumer fills missing ids with logit 0.
    /// </summary>
    public const float OneHotLogit = 100f;

    private readonly ITokenVocabulary _pivot;
    private readonly ITokenVocabulary _source;
    private readonly VocabularyMap _map;
    // Per source id: the source string in the pivot's spelling, and the pivot id of that exact string (-2 = not yet looked up).
    private readonly string?[] _sourceText;
    private readonly int[] _exactPivotId;

    /// <summary>Creates an aligner for one (pivot, source) vocabulary pair.</summary>
    public DistributionAligner(ITokenVocabulary pivotVocabulary, ITokenVocabulary sourceVocabulary, VocabularyMap map)
    {
        ArgumentNullException.ThrowIfNull(pivotVocabulary);
        ArgumentNullException.ThrowIfNull(sourceVocabulary);
        ArgumentNullException.ThrowIfNull(map);
        _pivot = pivotVocabulary;
        _source = sourceVocabulary;
        _map = map;
        _sourceText = new string?[sourceVocabulary.Count];
        _exactPivotId = new int[sourceVocabulary.Count];
        Array.Fill(_exactPivotId, -2);
    }

    /// <summary>
    /// Builds the targets of one conversation. Writes are to the result only; the lazily filled caches are
    /// idempotent, so one aligner may serve several threads.
    /// </summary>
    /// <param name="pivotIds">Pivot token ids, length n.</param>
    /// <param name="sourceIds">Source token ids, length m.</param>
    /// <param name="alignment">DTW alignment of the two sequences' input tokens.</param>
    /// <param name="sourceTopIds">Source top-K ids, <paramref name="k"/> per source position (m * k), descending logit.</param>
    /// <param name="sourceTopLogits">Logits matching <paramref name="sourceTopIds"/>.</param>
    /// <param name="k">Entries per source position.</param>
    /// <returns>n positions of up to k entries; position n - 1 has no target.</returns>
    public AlignedDistributions Align(ReadOnlySpan<int> pivotIds, ReadOnlySpan<int> sourceIds, TokenAlignment alignment,
        ReadOnlySpan<int> sourceTopIds, ReadOnlySpan<float> sourceTopLogits, int k)
    {
        ArgumentNullException.ThrowIfNull(alignment);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(k);
        if (alignment.PivotLength != pivotIds.Length || alignment.SourceLength != sourceIds.Length)
        {
            throw new ArgumentException("Id sequences do not match the alignment's lengths.", nameof(alignment));
        }
        if (sourceTopIds.Length != sourceIds.Length * k || sourceTopLogits.Length != sourceTopIds.Length)
        {
            throw new ArgumentException("Top-K arrays must hold k entries per source position.", nameof(sourceTopIds));
        }
        var n = pivotIds.Length;
        var result = new AlignedDistributions(n, k);
        for (var i = 0; i + 1 < n; i++)
        {
            var label = pivotIds[i + 1];
            var pivotText = _pivot.IdToToken(label) ?? string.Empty;
            var (kind, predicting) = Choose(pivotText, sourceIds, alignment.SourcesOf(i + 1));
            if (kind == DistributionAlignmentKind.OneHot)
            {
                result.Ids[i * k] = label;
                result.Logits[i * k] = OneHotLogit;
                result.Counts[i] = 1;
            }
            else
            {
                result.SourcePositions[i] = predicting;
                result.Counts[i] = MapTopK(sourceTopIds.Slice(predicting * k, k), sourceTopLogits.Slice(predicting * k, k),
                    result.Ids.AsSpan(i * k, k), result.Logits.AsSpan(i * k, k));
            }
            result.Kinds[i] = kind;
        }
        return result;
    }

    /// <summary>The pivot id a source id maps to: same string in the pivot's spelling, else the vocabulary map.</summary>
    public int ToPivotId(int sourceId)
    {
        var exact = _exactPivotId[sourceId];
        if (exact == -2)
        {
            var text = SourceText(sourceId);
            exact = text is null ? -1 : _pivot.TokenToId(text) ?? -1;
            _exactPivotId[sourceId] = exact;
        }
        return exact >= 0 ? exact : _map[sourceId];
    }

    private (DistributionAlignmentKind Kind, int Predicting) Choose(string pivotText, ReadOnlySpan<int> sourceIds, ReadOnlySpan<int> aligned)
    {
        if (aligned.Length == 1)
        {
            var j = aligned[0];
            if (j > 0 && EitherEndsWith(pivotText, SourceText(sourceIds[j]) ?? string.Empty))
            {
                return (DistributionAlignmentKind.OneToOne, j - 1);
            }
        }
        else if (aligned.Length > 1)
        {
            foreach (var j in aligned)
            {
                if (j > 0 && SourceEndsWithPivot(pivotText, SourceText(sourceIds[j]) ?? string.Empty))
                {
                    return (DistributionAlignmentKind.ManyToOneSuffix, j - 1);
                }
            }
            var last = aligned[^1];
            if (last > 0 && SplitsInto(pivotText, sourceIds, aligned))
            {
                return (DistributionAlignmentKind.GreedySplit, last - 1);
            }
        }
        return (DistributionAlignmentKind.OneHot, -1);
    }

    private static bool EitherEndsWith(string pivot, string source)
    {
        var (a, b) = TokenMarkers.ComparisonForms(pivot, source);
        return a.EndsWith(b, StringComparison.Ordinal) || b.EndsWith(a, StringComparison.Ordinal);
    }

    // With several pieces, a piece "matches" only when it covers the whole pivot token: a shorter piece is
    // always a suffix of a split pivot token and would make the greedy split unreachable.
    private static bool SourceEndsWithPivot(string pivot, string source)
    {
        var (a, b) = TokenMarkers.ComparisonForms(pivot, source);
        return b.EndsWith(a, StringComparison.Ordinal);
    }

    private bool SplitsInto(string pivotText, ReadOnlySpan<int> sourceIds, ReadOnlySpan<int> aligned)
    {
        ReadOnlySpan<char> rest = TokenMarkers.Strip(pivotText);
        foreach (var j in aligned)
        {
            var piece = TokenMarkers.Strip(SourceText(sourceIds[j]) ?? string.Empty);
            if (!rest.StartsWith(piece, StringComparison.Ordinal))
            {
                return false;
            }
            rest = rest[piece.Length..];
        }
        return rest.IsEmpty;
    }

    private int MapTopK(ReadOnlySpan<int> ids, ReadOnlySpan<float> logits, Span<int> outIds, Span<float> outLogits)
    {
        var count = 0;
        for (var r = 0; r < ids.Length; r++)
        {
            if ((uint)ids[r] >= (uint)_sourceText.Length)
            {
                continue;
            }
            var pivotId = ToPivotId(ids[r]);
            if (pivotId < 0 || outIds[..count].Contains(pivotId))
            {
                continue;
            }
            outIds[count] = pivotId;
            outLogits[count] = logits[r];
            count++;
        }
        return count;
    }

    private string? SourceText(int sourceId)
    {
        if ((uint)sourceId >= (uint)_sourceText.Length)
        {
            return null;
        }
        return _sourceText[sourceId] ??= _source.IdToToken(sourceId) is { } token
            ? TokenMarkers.Convert(token, _source.WordBoundaryMarker, _pivot.WordBoundaryMarker)
            : null;
    }
}
