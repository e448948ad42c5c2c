namespace FuseChat.Fusion.Alignment;

/// <summary>
/// A vocabulary held as a list of token strings indexed by id; for tests, benchmarks and adapters.
/// </summary>
public sealed class ListTokenVocabulary : ITokenVocabulary
{
    private readonly string[] _tokens;
    private readonly Dictionary<string, int> _ids;

    /// <summary>Creates a vocabulary whose id i is <paramref name="tokens"/>[i].</summary>
    /// <param name="tokens">Token strings by id; duplicates keep their lowest id for <see cref="TokenToId"/>.</param>
    /// <param name="wordBoundaryMarker">The word-boundary marker the tokens use.</param>
    /// <param name="bosId">Beginning-of-sequence id.</param>
    /// <param name="eosId">End-of-sequence id.</param>
    /// <param name="unkId">Unknown-token id.</param>
    public ListTokenVocabulary(IEnumerable<string> tokens, string wordBoundaryMarker, int? bosId = null, int? eosId = null, int? unkId = null)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        ArgumentNullException.ThrowIfNull(wordBoundaryMarker);
        _tokens = tokens.ToArray();
        _ids = new Dictionary<string, int>(_tokens.Length, StringComparer.Ordinal);
        for (var i = 0; i < _tokens.Length; i++)
        {
            _ids.TryAdd(_tokens[i], i);
        }
        WordBoundaryMarker = wordBoundaryMarker;
        BosId = bosId;
        EosId = eosId;
        UnkId = unkId;
    }

    /// <inheritdoc />
    public int Count => _tokens.Length;

    /// <inheritdoc />
    public string WordBoundaryMarker { get; }

    /// <inheritdoc />
    public int? BosId { get; }

    /// <inheritdoc />
    public int? EosId { get; }

    /// <inheritdoc />
    public int? UnkId { get; }

    /// <inheritdoc />
    public string? IdToToken(int id) => (uint)id < (uint)_tokens.Length ? _tokens[id] : null;

    /// <inheritdoc />
    public int? TokenToId(string token) => _ids.TryGetValue(token, out var id) ? id : null;
}
