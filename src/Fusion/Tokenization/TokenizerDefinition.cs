namespace FuseChat.Fusion.Tokenization;

/// <summary>The components read from a tokenizer.json, ready to run.</summary>
internal sealed class TokenizerDefinition
{
    public required BpeModel Model { get; init; }

    public TextNormalizer? Normalizer { get; init; }

    public PreTokenizer? PreTokenizer { get; init; }

    public TokenDecoder? Decoder { get; init; }

    public required IReadOnlyList<AddedToken> AddedTokens { get; init; }

    /// <summary>Ids the post-processor puts before a single sequence when special tokens are added.</summary>
    public required int[] PrefixIds { get; init; }

    /// <summary>Ids the post-processor puts after a single sequence.</summary>
    public required int[] SuffixIds { get; init; }

    public required TokenizerKind Kind { get; init; }
}
