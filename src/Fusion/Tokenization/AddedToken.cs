namespace FuseChat.Fusion.Tokenization;

/// <summary>An entry of tokenizer.json "added_tokens" (or one added later), with Hugging Face's matching flags.</summary>
internal sealed record AddedToken(
    int Id,
    string Content,
    bool Special,
    bool Normalized,
    bool LeftStrip,
    bool RightStrip,
    bool SingleWord);
