using System.Text;
using FuseChat.Fusion.Tokenization;

namespace FuseChat.Fusion.Templates;

/// <summary>
/// Turns a rendered conversation into token ids and the trained mask (Stage 1's labels: user turns,
/// role prefixes and BOS masked).
/// </summary>
/// <remarks>
/// The rendered text is tokenized once as a whole and each token is mapped back to its character
/// range: encoding segments one by one would differ from the model's view of the text (a
/// SentencePiece tokenizer prepends "▁" to every separately encoded piece, and merges across
/// segment borders would be lost). A token is trained when its whole range lies inside trained
/// text; a token that straddles a border between prompt and reply text is not trained. BOS
/// segments become the encoding tokenizer's own BOS token (none when it has none), so one
/// template's text can be encoded by every model's tokenizer, as Stage 1 does.
/// </remarks>
public static class ChatEncoder
{
    /// <summary>Renders and encodes a conversation.</summary>
    /// <param name="conversation">The conversation.</param>
    /// <param name="template">The chat template.</param>
    /// <param name="tokenizer">The tokenizer of the model that will read the ids.</param>
    /// <param name="addGenerationPrompt">Whether to end with the assistant prefix, for inference.</param>
    public static EncodedConversation Encode(Conversation conversation, IChatTemplate template, HfTokenizer tokenizer, bool addGenerationPrompt = false)
    {
        ArgumentNullException.ThrowIfNull(conversation);
        ArgumentNullException.ThrowIfNull(template);
        return Encode(template.Render(conversation, addGenerationPrompt), tokenizer);
    }

    /// <summary>Encodes rendered segments.</summary>
    /// <param name="segments">Segments from <see cref="IChatTemplate.Render"/>.</param>
    /// <param name="tokenizer">The tokenizer of the model that will read the ids.</param>
    public static EncodedConversation Encode(IReadOnlyList<ChatSegment> segments, HfTokenizer tokenizer)
    {
        ArgumentNullException.ThrowIfNull(segments);
        ArgumentNullException.ThrowIfNull(tokenizer);
        var bos = tokenizer.BosId is null ? string.Empty : tokenizer.BosToken ?? string.Empty;
        var text = new StringBuilder();
        var trainedRanges = new List<(int Start, int End)>();
        foreach (var segment in segments)
        {
            var start = text.Length;
            text.Append(segment.IsBos ? bos : segment.Text);
            if (segment.Trained && !segment.IsBos && text.Length > start)
            {
                // Neighbouring trained segments form one range, so a token may span both.
                if (trainedRanges.Count > 0 && trainedRanges[^1].End == start)
                {
                    trainedRanges[^1] = (trainedRanges[^1].Start, text.Length);
                }
                else
                {
                    trainedRanges.Add((start, text.Length));
                }
            }
        }

        var ids = new List<int>();
        var offsets = new List<(int Start, int End)>();
        tokenizer.Encode(text.ToString(), addSpecialTokens: false, ids, offsets);
        var trained = new bool[ids.Count];
        var range = 0;
        for (var t = 0; t < offsets.Count; t++)
        {
            var (start, end) = offsets[t];
            if (end <= start)
            {
                continue;
            }

            // Token starts never decrease, so one forward pass over the ranges suffices.
            while (range < trainedRanges.Count && trainedRanges[range].End <= start)
            {
                range++;
            }

            trained[t] = range < trainedRanges.Count && trainedRanges[range].Start <= start && end <= trainedRanges[range].End;
        }

        return new EncodedConversation([.. ids], trained);
    }
}
