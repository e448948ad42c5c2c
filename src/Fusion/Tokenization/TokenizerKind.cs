namespace FuseChat.Fusion.Tokenization;

/// <summary>The family of a Hugging Face BPE tokenizer, which decides how word boundaries are marked in token strings.</summary>
public enum TokenizerKind
{
    /// <summary>GPT-2 style byte-level BPE (GPT-2, Llama-3, Qwen2/Qwen3): tokens are bytes mapped to printable characters, a leading space shows as "Ġ".</summary>
    ByteLevel,

    /// <summary>SentencePiece-style BPE (Llama-2, Mistral, Gemma): spaces are replaced by "▁" and unknown characters fall back to &lt;0xNN&gt; byte tokens.</summary>
    SentencePiece,
}
