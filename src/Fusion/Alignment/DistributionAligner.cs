namespace FuseChat.Fusion.Alignment;

/// <summary>
/// Turns a source model's per-position top-K distributions into targets over the pivot vocabulary for each
/// pivot position (METHOD.md stage 2d).
/// </summary>
/// <remarks>
/// <para>The off-by-one. Logits at position t predict token t+1 while DTW pairs input tokens. Two source and
/// pivot distributions are comparable when they are conditioned on the same text, i.e. when the input tokens
/// P[i] and S[j] END at the same character; both then predict whatever follows that character. The rules'
/// test "one string ends with the other", applied to the aligned INPUT tokens P[i] and S[j], is exactly that
/// test, so the distribution at source position j is used as is for pivot position i (no shift). What must
/// be shifted is the fallback: the one-hot target of pivot position i is its gold next token P[i+1]; the
/// public code put it on the input token P[i]. Aligning the next tokens instead (source j - 1 for P[i+1] with
/// S[j]) was tried on "Knowledge fusion of chat models" and pairs different contexts: "▁Know" | "ledge" against
/// "Knowledge" would take the prediction made before "Knowledge" as the target after "Know" (see the tests).</para>
/// <para>Rules, with strings compared stripped of markers and the source spelled in the pivot's convention:
/// one aligned source token, one string ending with the other: its distribution; several: the first piece
/// that is a suffix match (compared with markers, see the code); else, when the pieces split the pivot string greedily and concatenate to it, the
/// last piece's; otherwise one-hot on P[i+1]. Source ids map to pivot ids by exact string, else through the
/// <see cref="VocabularyMap"/>; a pivot id that repeats keeps its first (highest) logit.</para>
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
    /// <param name="alignment">DTW alignment of the two sequences' input tokens (not shifted).</param>
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
            var pivotText = _pivot.IdToToken(pivotIds[i]) ?? string.Empty;
            var (kind, predicting) = Choose(pivotText, sourceIds, alignment.SourcesOf(i));
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
            if (EndsWithEachOther(pivotText, SourceText(sourceIds[j]) ?? string.Empty))
            {
                return (DistributionAlignmentKind.OneToOne, j);
            }
        }
        else if (aligned.Length > 1)
        {
            // Pieces are compared with their markers here: stripped, the last piece of a split is always a suffix
            // and the greedy split below could never apply; with markers, "▁fus" + "▁ion" is no suffix of "▁fusion".
            var unifiedPivot = TokenMarkers.Unify(pivotText);
            foreach (var j in aligned)
            {
                var piece = TokenMarkers.Unify(SourceText(sourceIds[j]) ?? string.Empty);
                if (piece.Length > 0 && (unifiedPivot.EndsWith(piece, StringComparison.Ordinal) || piece.EndsWith(unifiedPivot, StringComparison.Ordinal)))
                {
                    return (DistributionAlignmentKind.ManyToOneSuffix, j);
                }
            }
            if (SplitsInto(pivotText, sourceIds, aligned))
            {
                return (DistributionAlignmentKind.GreedySplit, aligned[^1]);
            }
        }
        return (DistributionAlignmentKind.OneHot, -1);
    }

    // Both strings end at the same character of the text (given that what precedes them is aligned), so the
    // two models' predictions at these positions are conditioned on the same text.
    private static bool EndsWithEachOther(string pivot, string source)
    {
        var (a, b) = TokenMarkers.ComparisonForms(pivot, source);
        return a.EndsWith(b, StringComparison.Ordinal) || b.EndsWith(a, StringComparison.Ordinal);
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
