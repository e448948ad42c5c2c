namespace FuseChat.Fusion.Alignment;

/// <summary>
/// The little that token alignment needs to know about a tokenizer's vocabulary: token strings as the
/// vocabulary spells them ("▁Hello" for SentencePiece, "ĠHello" for byte-level BPE), ids and special ids.
/// </summary>
public interface ITokenVocabulary
{
    /// <summary>Number of ids; valid ids are 0 to Count - 1.</summary>
    int Count { get; }

    /// <summary>The marker the vocabulary puts before a word: <see cref="TokenMarkers.SentencePiece"/> or <see cref="TokenMarkers.ByteLevel"/>.</summary>
    string WordBoundaryMarker { get; }

    /// <summary>Beginning-of-sequence id, if the vocabulary has one.</summary>
    int? BosId { get; }

    /// <summary>End-of-sequence id, if the vocabulary has one.</summary>
    int? EosId { get; }

    /// <summary>Unknown-token id, if the vocabulary has one.</summary>
    int? UnkId { get; }

    /// <summary>The token string of an id, or null when the id is out of range.</summary>
    string? IdToToken(int id);

    /// <summary>The id of a token string, or null when the vocabulary lacks it.</summary>
    int? TokenToId(string token);
}
