using FuseChat.Fusion.Tokenization;

namespace FuseChat.Fusion.Templates;

/// <summary>The token ids that end an assistant turn for a tokenizer: its EOS and the end-of-turn markers it knows.</summary>
public static class ChatStopTokens
{
    /// <summary>End-of-turn markers of the supported chat formats.</summary>
    public static IReadOnlyList<string> EndOfTurnMarkers { get; } =
        ["<|end_of_turn|>", "<|eot_id|>", "<|im_end|>", "<end_of_turn>", "</s>", "<|endoftext|>"];

    /// <summary>EOS, the model's configured EOS ids and every end-of-turn marker that is a special token of <paramref name="tokenizer"/>.</summary>
    public static IReadOnlyCollection<int> For(HfTokenizer tokenizer, IEnumerable<int>? configEosIds = null)
    {
        var stops = new HashSet<int>(configEosIds ?? []);
        if (tokenizer.EosId is { } eos) stops.Add(eos);
        foreach (var marker in EndOfTurnMarkers)
            if (tokenizer.TokenToId(marker) is { } id && tokenizer.IsSpecial(id)) stops.Add(id);
        return stops;
    }
}
