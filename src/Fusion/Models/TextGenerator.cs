using FuseChat.Torch;

namespace FuseChat.Fusion.Models;

/// <summary>
/// Autoregressive decoding with a key/value cache: the prompt is run once, then one position per new
/// token. Greedy at temperature 0, else sampling with temperature, top-k and top-p from libtorch's
/// seeded generator (TorchRuntime.ManualSeed makes it reproducible).
/// <para>With LongRoPE (Phi-3.5, Phi-4-mini) the rotation changes once the sequence outgrows the original context: the
/// first step past it drops the cache and runs the whole sequence again, so that every key is rotated the long way and
/// each step's logits equal a forward pass over the whole sequence (what transformers' Phi3 generation sets out to do by
/// dropping its cache at that point).</para>
/// </summary>
public static class TextGenerator
{
    /// <summary>Generates up to MaxNewTokens ids after <paramref name="prompt"/>, stopping at a stop token.</summary>
    public static IReadOnlyList<int> Generate(LlamaModel model, IReadOnlyList<int> prompt, GenerationOptions options,
        Action<int>? onToken = null) => Generate(model, prompt, options, onToken, onLogits: null);

    /// <summary>As the public overload; <paramref name="onLogits"/> sees each step's float32 logits [vocab] (tests).</summary>
    internal static IReadOnlyList<int> Generate(LlamaModel model, IReadOnlyList<int> prompt, GenerationOptions options,
        Action<int>? onToken, Action<Tensor>? onLogits)
    {
        options.Validate();
        if (prompt.Count == 0) throw new ArgumentException("the prompt must hold at least one token", nameof(prompt));
        var generated = new List<int>();
        if (options.MaxNewTokens == 0) return generated;
        using var noGrad = NoGradScope.Enter();
        var device = model.Device;
        using var cache = new KeyValueCache(model.Config, 1, prompt.Count + options.MaxNewTokens, model.DType, device);
        long[] input = prompt.Select(t => (long)t).ToArray();
        var sequence = new List<long>(input);
        var switchesAfter = model.Config.RopeScaling?.LongFactorsPast ?? long.MaxValue;
        for (var step = 0; step < options.MaxNewTokens; step++)
        {
            using var scope = DisposeScope.Open();
            if (cache.Length > 0 && cache.Length <= switchesAfter && cache.Length + input.Length > switchesAfter)
            {
                cache.Reset();
                input = [.. sequence];
            }

            var ids = Tensor.From<long>(input, [1, input.Length], device);
            // Only the last position's logits choose the next token: a long prompt's pass would otherwise make
            // [prompt, vocabulary] logits for nothing (as transformers' generate, which keeps one position's).
            var logits = model.Head(model.Body(ids, cache).Select(1, input.Length - 1)).Select(0, 0);
            var stepLogits = logits.To(DType.Float32);
            onLogits?.Invoke(stepLogits);
            var next = (int)Pick(stepLogits, options);
            if (options.StopTokenIds.Contains(next)) break;
            generated.Add(next);
            sequence.Add(next);
            onToken?.Invoke(next);
            input = [next];
        }
        return generated;
    }

    /// <summary>Chooses the next id from one position's logits [vocab].</summary>
    internal static long Pick(Tensor logits, GenerationOptions options)
    {
        if (options.Temperature == 0) return logits.ArgMax(-1).ToInt64();
        var scaled = logits / options.Temperature;
        var vocab = scaled.Size(0);
        var k = options.TopK > 0 ? Math.Min(options.TopK, vocab) : vocab;
        var (values, indices) = scaled.TopK(k, -1, largest: true, sorted: true);
        var probabilities = Functional.Softmax(values, -1);
        if (options.TopP < 1)
        {
            // Keep the smallest prefix of the sorted tokens whose mass reaches p (always at least one).
            var before = probabilities.CumSum(-1) - probabilities;
            probabilities = probabilities.MaskedFill(before.Ge(options.TopP), 0);
        }
        var choice = Functional.Multinomial(probabilities, 1).ToInt64();
        return indices.Select(0, choice).ToInt64();
    }
}
