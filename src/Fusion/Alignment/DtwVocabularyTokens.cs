namespace FuseChat.Fusion.Alignment;

/// <summary>
/// The DTW tokens of one vocabulary by id, kept for the current token registry generation: a conversation's ids
/// become tokens with one array read each, instead of hashing every token string per position. A new registry
/// generation (the registry's bound, or <see cref="DtwCostCache.Clear"/>) starts an empty array. Thread-safe:
/// concurrent first lookups of one id may both ask the registry, which returns the same token.
/// </summary>
internal sealed class DtwVocabularyTokens(string side, int count, Func<int, string> text)
{
    private Generation _generation = new(null, []);

    /// <summary>Fills <paramref name="into"/> with the tokens of <paramref name="ids"/> in <paramref name="registry"/>.</summary>
    public void Get(DtwTokenRegistry registry, ReadOnlySpan<int> ids, Span<DtwToken> into)
    {
        var tokens = GenerationFor(registry).Tokens;
        for (var k = 0; k < ids.Length; k++)
        {
            var id = ids[k];
            if ((uint)id >= (uint)tokens.Length)
            {
                throw new ArgumentOutOfRangeException(nameof(ids), id, $"Not a {side} token id.");
            }
            into[k] = tokens[id] ??= registry.Get(text(id));
        }
    }

    private Generation GenerationFor(DtwTokenRegistry registry)
    {
        var generation = Volatile.Read(ref _generation);
        if (generation.Registry == registry)
        {
            return generation;
        }
        var fresh = new Generation(registry, new DtwToken[count]);
        // Another thread may have started the same generation first: keep one array per generation.
        var seen = Interlocked.CompareExchange(ref _generation, fresh, generation);
        return seen == generation ? fresh : seen.Registry == registry ? seen : fresh;
    }

    private sealed record Generation(DtwTokenRegistry? Registry, DtwToken[] Tokens);
}
