using FuseChat.Fusion.Data;
using FuseChat.Fusion.Models;
using FuseChat.Fusion.Templates;
using FuseChat.Fusion.Tokenization;
using FuseChat.Torch;

namespace FuseChat.Fusion.Evaluation;

/// <summary>
/// Evaluates a model with its tokenizer and chat template: perplexity over the trained (assistant)
/// tokens of held-out conversations, and exact-match accuracy of greedy replies on a task set.
/// </summary>
public sealed class Evaluator(LlamaModel model, HfTokenizer tokenizer, IChatTemplate template, IEnumerable<int>? eosIds = null)
{
    private readonly IReadOnlyCollection<int> stops = ChatStopTokens.For(tokenizer, eosIds);

    /// <summary>Most tokens of a greedy reply.</summary>
    public int MaxReplyTokens { get; init; } = 64;

    /// <summary>Scored positions per pass of the output head; null: <see cref="LlamaModel.HeadChunk"/> (tests set a few).</summary>
    internal int? HeadChunk { get; init; }

    /// <summary>exp(mean NLL) over the trained tokens of <paramref name="conversations"/>; conversations without any are skipped.</summary>
    public (double Perplexity, long Tokens, int Conversations) Perplexity(IEnumerable<Conversation> conversations, Action? onConversation = null)
    {
        double totalNll = 0;
        long tokens = 0;
        var counted = 0;
        using var noGrad = NoGradScope.Enter();
        var device = model.Device;
        foreach (var conversation in conversations)
        {
            onConversation?.Invoke();
            var encoded = ChatEncoder.Encode(conversation, template, tokenizer);
            var length = Math.Min(encoded.Ids.Length, model.Config.MaxPositions);
            var trained = NextTokenLabels.Count(encoded.Trained, length);
            if (trained == 0) continue;
            var labels = NextTokenLabels.For(encoded.Ids, encoded.Trained, length);
            using var scope = DisposeScope.Open();
            var ids = Tensor.From<long>(encoded.Ids.Take(length).Select(i => (long)i).ToArray(), [1, length], device);
            var hidden = model.Body(ids).Select(0, 0);
            // The output head only at the scored positions, a chunk at a time: a long conversation at a large
            // vocabulary would otherwise hold [length, vocabulary] logits and their fp32 copy.
            var rows = Enumerable.Range(0, length).Where(t => labels[t] != NextTokenLabels.Ignore).ToArray();
            var scored = hidden.IndexSelect(0, Tensor.From<long>(rows.Select(t => (long)t).ToArray(), device));
            var gold = Tensor.From<long>(rows.Select(t => labels[t]).ToArray(), device);
            var chunk = HeadChunk ?? LlamaModel.HeadChunk(model.Config.VocabSize);
            for (var start = 0; start < rows.Length; start += chunk)
            {
                using var chunkScope = DisposeScope.Open();
                var n = Math.Min(chunk, rows.Length - start);
                var logits = model.Head(scored.Narrow(0, start, n)).To(DType.Float32);
                totalNll += Functional.CrossEntropy(logits, gold.Narrow(0, start, n), reduction: Reduction.Sum).ToDouble();
            }
            tokens += trained;
            counted++;
        }
        if (tokens == 0) throw new InvalidOperationException("no conversation has a trained (assistant) token to score");
        return (Math.Exp(totalNll / tokens), tokens, counted);
    }

    /// <summary>Greedy reply to one prompt, decoded without special tokens.</summary>
    public string Reply(string prompt)
    {
        var encoded = ChatEncoder.Encode(new Conversation([new ChatMessage(ChatRole.User, prompt)]), template, tokenizer, addGenerationPrompt: true);
        var ids = TextGenerator.Generate(model, encoded.Ids, new GenerationOptions { MaxNewTokens = MaxReplyTokens, StopTokenIds = stops });
        return tokenizer.Decode(ids.ToArray(), skipSpecialTokens: true);
    }

    /// <summary>Accuracy of greedy replies on <paramref name="examples"/> (see <see cref="TaskSet.Matches"/>).</summary>
    public (double Accuracy, int Correct) ExactMatch(IReadOnlyList<TaskExample> examples, Action? onExample = null)
    {
        if (examples.Count == 0) throw new ArgumentException("the task set is empty", nameof(examples));
        var correct = 0;
        foreach (var example in examples)
        {
            onExample?.Invoke();
            if (TaskSet.Matches(Reply(example.Prompt), example.Answer)) correct++;
        }
        return ((double)correct / examples.Count, correct);
    }
}
