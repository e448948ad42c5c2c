using FuseChat.Fusion.Tokenization;

namespace FuseChat.Fusion.Alignment;

/// <summary>The vocabulary of a Hugging Face tokenizer, as the alignment stage sees it.</summary>
public sealed class TokenizerVocabulary(HfTokenizer tokenizer) : ITokenVocabulary
{
    /// <inheritdoc/>
    public int Count => tokenizer.Count;

    /// <inheritdoc/>
    public string WordBoundaryMarker => tokenizer.WordBoundaryMarker;

    /// <inheritdoc/>
    public int? BosId => tokenizer.BosId;

    /// <inheritdoc/>
    public int? EosId => tokenizer.EosId;

    /// <inheritdoc/>
    public int? UnkId => tokenizer.UnkId;

    /// <inheritdoc/>
    public string? IdToToken(int id) => tokenizer.IdToToken(id);

    /// <inheritdoc/>
    public int? TokenToId(string token) => tokenizer.TokenToId(token);
}
