namespace FuseChat.Fusion.Alignment;

/// <summary>
/// The DTW tokens of one vocabulary by id: a conversation's ids become tokens with one array read each, instead of
/// hashing every token string per position. An entry belongs to the registry generation that made it; a lookup in
/// a later generation (after the registry's bound, or <see cref="DtwCostCache.Clear"/>) replaces it, so the array is
/// allocated once for the vocabulary, not per generation. Thread-safe: concurrent first lookups of one id may both
/// ask the registry, which returns the same token.
/// </summary>
internal sealed class DtwVocabularyTokens(string side, int count, Func<int, string> text)
{
    private readonly string _side = side;
    private readonly DtwToken?[] _tokens = new DtwToken?[count];

    /// <summary>The tokens of <paramref name="ids"/> in <paramref name="registry"/>, looked up as the DTW reads them.</summary>
    public Sequence Of(DtwTokenRegistry registry, int[] ids) => new(this, registry, ids);

    private DtwToken Add(DtwTokenRegistry registry, int id) => _tokens[id] = registry.Get(text(id));

    /// <summary>One conversation's ids as DTW tokens of one registry generation; an id outside the vocabulary throws
    /// <see cref="ArgumentOutOfRangeException"/> when read.</summary>
    internal readonly struct Sequence(DtwVocabularyTokens owner, DtwTokenRegistry registry, int[] ids) : IDtwTokenSequence
    {
        private readonly DtwToken?[] _tokens = owner._tokens;
        private readonly int _generation = registry.Generation;

        /// <inheritdoc/>
        public int Count => ids.Length;

        /// <inheritdoc/>
        public DtwToken this[int k]
        {
            get
            {
                var id = ids[k];
                if ((uint)id >= (uint)_tokens.Length)
                {
                    throw new ArgumentOutOfRangeException(nameof(ids), id, $"Not a {owner._side} token id.");
                }
                var token = _tokens[id];
                return token is not null && token.Generation == _generation ? token : owner.Add(registry, id);
            }
        }
    }
}
