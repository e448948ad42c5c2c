using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

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

    // How far ahead the vocabulary slot is prefetched, past the position whose token object is.
    private const int SlotDistance = 8;

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
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public unsafe void Prefetch(int k)
        {
            // Two stages: the vocabulary slot of a position far ahead, then the token object of a nearer one (its
            // slot fetched by then). Each is a likely cache miss: vocabularies hold up to a few hundred thousand ids.
            if (!Sse.IsSupported)
            {
                return;
            }
            if ((uint)(k + SlotDistance) < (uint)ids.Length && (uint)ids[k + SlotDistance] < (uint)_tokens.Length)
            {
                Sse.Prefetch0(Unsafe.AsPointer(ref _tokens[ids[k + SlotDistance]]));
            }
            if ((uint)k < (uint)ids.Length && (uint)ids[k] < (uint)_tokens.Length && _tokens[ids[k]] is { } token)
            {
                Sse.Prefetch0(Unsafe.AsPointer(ref Unsafe.As<RawData>(token).Data));
            }
        }

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

// The first field of any object, for taking its address (prefetch only).
file sealed class RawData
{
    public byte Data;
}
