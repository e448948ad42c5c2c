using FuseChat.Fusion.Data;
using FuseChat.Fusion.Models;
using FuseChat.Fusion.Representations;
using FuseChat.Fusion.Templates;
using FuseChat.Torch;

namespace FuseChat.Fusion.Tests.Representations;

/// <summary>Top-K, metric_ce, batching, truncation and dropping against direct full-logit computation.</summary>
public sealed class RepresentationComputerTests(RepresentationFixture fixture) : IClassFixture<RepresentationFixture>
{
    private const int K = 10;

    private List<RepresentationInput> Inputs()
    {
        var template = ChatTemplates.Get("openchat_3.5");
        return ChatDataset.Read(fixture.DataPath).Select((record, i) =>
        {
            var encoded = ChatEncoder.Encode(record.Conversation, template, fixture.Tokenizer);
            return new RepresentationInput(i, record.Id, encoded.Ids, encoded.Trained);
        }).ToList();
    }

    [Fact]
    public void TopKAndMetricCe_EqualDirectFullLogitComputation()
    {
        var (model, _) = PretrainedModel.Load(fixture.ModelFolder);
        using var _model = model;
        var computer = new RepresentationComputer(model, K, maxBatchTokens: 1);
        foreach (var input in Inputs())
        {
            var record = Assert.Single(computer.Compute([input]).Records);
            float[] logits;
            using (NoGradScope.Enter())
            using (DisposeScope.Open())
                logits = model.Forward(Tensor.From<long>(input.Ids.Select(i => (long)i).ToArray(), [1, input.Ids.Length])).ToArray<float>();
            var vocab = model.Config.VocabSize;
            var expectedPositions = Enumerable.Range(0, input.Ids.Length - 1).Where(t => input.Trained[t + 1]).ToArray();
            Assert.Equal(expectedPositions, record.Positions);
            Assert.NotEmpty(record.Positions);
            double ceSum = 0;
            for (var p = 0; p < record.Positions.Length; p++)
            {
                var t = record.Positions[p];
                var row = logits.AsSpan(t * vocab, vocab).ToArray();
                var top = Enumerable.Range(0, vocab).OrderByDescending(v => row[v]).ThenBy(v => v).Take(K).ToArray();
                Assert.Equal(top, record.IdsAt(p).ToArray());
                Assert.Equal(top.Select(v => (Half)row[v]).ToArray(), record.LogitsAt(p).ToArray());
                var max = row.Max();
                var logSumExp = max + Math.Log(row.Sum(v => Math.Exp(v - max)));
                ceSum += logSumExp - row[input.Ids[t + 1]];
            }
            var expectedCe = ceSum / record.Positions.Length;
            Assert.True(Math.Abs(expectedCe - record.MetricCe) <= 1e-4 * Math.Max(1, expectedCe), $"{input.Id}: metric_ce {record.MetricCe} vs direct {expectedCe}");
            Assert.Equal(input.Ids, record.InputIds);
            Assert.Equal(input.Trained, record.Trained);
        }
    }

    [Fact]
    public void Batched_AndChunked_EqualOneAtATime_AndKeepInputOrder()
    {
        var (model, _) = PretrainedModel.Load(fixture.ModelFolder);
        using var _model = model;
        var inputs = Inputs();
        var alone = new RepresentationComputer(model, K, maxBatchTokens: 1).Compute(inputs);
        var batched = new RepresentationComputer(model, K, maxBatchTokens: 4096).Compute(inputs);
        var bucketed = new RepresentationComputer(model, K, maxBatchTokens: 80).Compute(inputs);
        // The output head over 3 trained positions at a time instead of all of a batch's at once.
        var chunked = new RepresentationComputer(model, K, maxBatchTokens: 4096) { HeadChunk = 3 }.Compute(inputs);
        Assert.Equal(0, alone.PaddedTokens);
        Assert.True(batched.PaddedTokens > 0, "one batch of unequal lengths pads");
        Assert.True(bucketed.PaddedTokens < batched.PaddedTokens, "length buckets pad less than one batch");
        foreach (var result in new[] { batched, bucketed, chunked })
        {
            Assert.Equal(alone.Records.Select(r => r.ConversationIndex), result.Records.Select(r => r.ConversationIndex));
            Assert.Equal(Enumerable.Range(0, inputs.Count).Select(i => (long)i), result.Records.Select(r => r.ConversationIndex));
            for (var i = 0; i < alone.Records.Count; i++)
            {
                var a = alone.Records[i];
                var b = result.Records[i];
                Assert.Equal(a.Positions, b.Positions);
                Assert.Equal(a.TopKIds, b.TopKIds);
                // Batched matrix products may round differently in the last float bits; fp16 storage mostly hides that.
                for (var j = 0; j < a.TopKLogits.Length; j++)
                    Assert.True(Math.Abs((float)a.TopKLogits[j] - (float)b.TopKLogits[j]) <= 1e-2, $"{a.Id} logit {j}: {a.TopKLogits[j]} vs {b.TopKLogits[j]}");
                Assert.True(Math.Abs(a.MetricCe - b.MetricCe) <= 1e-4, $"{a.Id}: {a.MetricCe} vs {b.MetricCe}");
            }
        }
    }

    [Fact]
    public void ConversationWithoutTrainedPosition_IsDroppedAndCounted()
    {
        var (model, _) = PretrainedModel.Load(fixture.ModelFolder);
        using var _model = model;
        var template = ChatTemplates.Get("openchat_3.5");
        var userOnly = ChatEncoder.Encode(new Conversation([new ChatMessage(ChatRole.User, "Hello there")]), template, fixture.Tokenizer);
        Assert.DoesNotContain(true, userOnly.Trained);
        var inputs = Inputs();
        inputs.Insert(1, new RepresentationInput(100, "user-only", userOnly.Ids, userOnly.Trained));
        var result = new RepresentationComputer(model, K, 4096).Compute(inputs);
        Assert.Equal(["user-only"], result.DroppedIds);
        Assert.Equal(inputs.Count - 1, result.Records.Count);
        Assert.All(result.Records, r => Assert.True(float.IsFinite(r.MetricCe)));
    }

    [Fact]
    public void EmptyAssistantReply_StillTrainsTheEndOfTurnMarker()
    {
        // OpenChat renders an empty reply as " <|end_of_turn|>": the model still learns to end the turn,
        // so such a conversation has trained positions and a metric (it is not one to drop).
        var (model, _) = PretrainedModel.Load(fixture.ModelFolder);
        using var _model = model;
        var input = Inputs().Single(i => i.Id == "empty-reply");
        var record = Assert.Single(new RepresentationComputer(model, K, 4096).Compute([input]).Records);
        var trainedText = fixture.Tokenizer.Decode(record.Positions.Select(t => record.InputIds[t + 1]).ToArray(), skipSpecialTokens: false);
        Assert.Equal("<|end_of_turn|>", trainedText.Trim());
    }

    [Fact]
    public void LongConversation_IsTruncatedToMaxPositions_AndDroppedWhenNoTrainedTokenRemains()
    {
        var (model, _) = PretrainedModel.Load(fixture.ShortModelFolder);
        using var _model = model;
        var inputs = Inputs();
        var result = new RepresentationComputer(model, K, 4096).Compute(inputs);
        Assert.Contains("long-prompt", result.DroppedIds);
        Assert.DoesNotContain("greet", result.DroppedIds);
        var longer = inputs.Count(i => i.Ids.Length > 40);
        Assert.True(longer >= 2, "the fixture has long conversations");
        Assert.Equal(longer, result.Truncated);
        Assert.All(result.Records, r => Assert.True(r.InputIds.Length <= 40));
        Assert.Contains(result.Records, r => r.Truncated);
        Assert.All(result.Records.Where(r => r.Truncated), r => Assert.Equal(40, r.InputIds.Length));
    }

    [Fact]
    public void RowsBeyondTheTokenizerNeverEnterTheTopK()
    {
        var (model, _) = PretrainedModel.Load(fixture.ModelFolder);
        using var _model = model;
        var input = Inputs()[0];
        var unrestricted = Assert.Single(new RepresentationComputer(model, K, 4096).Compute([input]).Records);
        // Pretend the rows from the highest chosen id on are padding rows (as in Qwen1.5: 151936 rows, 151646 tokens).
        var usable = unrestricted.TopKIds.Max();
        var restricted = Assert.Single(new RepresentationComputer(model, K, 4096, usable).Compute([input]).Records);
        Assert.All(restricted.TopKIds, id => Assert.True(id < usable, $"id {id} is beyond the tokenizer's {usable} tokens"));
        Assert.NotEqual(unrestricted.TopKIds, restricted.TopKIds);
        Assert.Equal(unrestricted.MetricCe, restricted.MetricCe); // the metric still covers every row, as transformers' loss does
    }
}
