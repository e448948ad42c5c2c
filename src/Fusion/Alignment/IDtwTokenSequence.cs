namespace FuseChat.Fusion.Alignment;

/// <summary>
/// The tokens of one side of a DTW pair, position by position, all from one <see cref="DtwTokenRegistry"/>
/// generation. Implemented by structs, so that the DTW's interning loop calls it without indirection and no
/// intermediate array of tokens is filled.
/// </summary>
internal interface IDtwTokenSequence
{
    /// <summary>Positions.</summary>
    int Count { get; }

    /// <summary>The token at position <paramref name="k"/>.</summary>
    DtwToken this[int k] { get; }

    /// <summary>Hints that position <paramref name="k"/> (which may be past the end) is read soon: the interning loop
    /// calls it a few positions ahead, so that the memory reads of distinct positions overlap.</summary>
    void Prefetch(int k);
}
