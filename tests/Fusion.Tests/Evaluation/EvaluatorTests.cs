using FuseChat.Fusion.Evaluation;
using FuseChat.Fusion.Models;
using FuseChat.Fusion.Templates;
using FuseChat.Fusion.Tests.Checkpoints;
using FuseChat.Fusion.Tests.Tokenization;
using FuseChat.Torch;

namespace FuseChat.Fusion.Tests.Evaluation;

public class EvaluatorTests
{
    private static LlamaModel TinyMistralVocabularyModel() => new(new DecoderConfig
    {
        VocabSize = 32000, HiddenSize = 16, IntermediateSize = 24, Layers = 1, Heads = 2, MaxPositions = 256,
    });

    private static readonly Conversation Chat = new(
    [
        new ChatMessage(ChatRole.User, "What is the capital of France?"),
        new ChatMessage(ChatRole.Assistant, "Paris."),
    ]);

    [Fact]
    public void PerplexityIsTheExponentOfTheMeanNllOverTrainedTokens()
    {
        TorchRuntime.ManualSeed(31);
        using var model = TinyMistralVocabularyModel();
        var tokenizer = TokenizerFixtures.LoadFresh("llama2");
        var template = ChatTemplates.Get("mistral");
        var evaluator = new Evaluator(model, tokenizer, template);
        var (perplexity, tokens, conversations) = evaluator.Perplexity([Chat]);

        // By hand: log-softmax at every position whose next token is trained.
        var encoded = ChatEncoder.Encode(Chat, template, tokenizer);
        using var scope = DisposeScope.Open();
        using var noGrad = NoGradScope.Enter();
        var logProbs = Functional.LogSoftmax(model.Forward(Tensor.From<long>(encoded.Ids.Select(i => (long)i).ToArray(), [1, encoded.Ids.Length])), -1);
        double nll = 0;
        var count = 0;
        for (var t = 0; t + 1 < encoded.Ids.Length; t++)
        {
            if (!encoded.Trained[t + 1]) continue;
            nll -= logProbs.Select(1, t).Select(1, encoded.Ids[t + 1]).ToDouble();
            count++;
        }
        Assert.True(count > 0);
        Assert.Equal(count, tokens);
        Assert.Equal(1, conversations);
        Assert.Equal(Math.Exp(nll / count), perplexity, Math.Exp(nll / count) * 1e-5); // float32 sums
        // The output head over 3 scored positions at a time gives the same.
        var (chunked, chunkedTokens, _) = new Evaluator(model, tokenizer, template) { HeadChunk = 3 }.Perplexity([Chat]);
        Assert.True(count > 3);
        Assert.Equal(count, chunkedTokens);
        Assert.Equal(perplexity, chunked, perplexity * 1e-5);
        Assert.InRange(perplexity, 1000, 100000); // a random model over 32k tokens is nearly uniform
    }

    [Fact]
    public void ExactMatchCountsRepliesEqualToTheAnswer()
    {
        TorchRuntime.ManualSeed(32);
        using var model = TinyMistralVocabularyModel();
        var evaluator = new Evaluator(model, TokenizerFixtures.LoadFresh("llama2"), ChatTemplates.Get("mistral")) { MaxReplyTokens = 6 };
        var reply = evaluator.Reply("Name a colour.");
        Assert.False(string.IsNullOrEmpty(reply));
        var (accuracy, correct) = evaluator.ExactMatch([new TaskExample(1, "Name a colour.", reply.ToUpperInvariant() + "."), new TaskExample(2, "Name a colour.", "definitely not " + reply)]);
        Assert.Equal(1, correct);
        Assert.Equal(0.5, accuracy);
    }

    [Theory]
    [InlineData(" Paris. ", "paris", true)]
    [InlineData("Paris", "Paris, France", false)]
    [InlineData("42", "42.", true)]
    public void MatchingTrimsCaseAndTrailingPeriod(string reply, string answer, bool expected) =>
        Assert.Equal(expected, TaskSet.Matches(reply, answer));

    [Fact]
    public void ReportRoundTripsThroughJsonAndRendersMarkdown()
    {
        var report = new EvaluationReport([
            new ModelEvaluation { Model = "pivot", Perplexity = 12.5, PerplexityTokens = 100, Conversations = 3, ExactMatch = 0.25, TaskExamples = 4, TaskCorrect = 1 },
            new ModelEvaluation { Model = "fused", Perplexity = 10.25, PerplexityTokens = 100, Conversations = 3 },
        ]);
        Assert.Equal(report.Models, EvaluationReport.FromJson(report.ToJson()).Models);
        Assert.Contains("\"perplexity_tokens\": 100", report.ToJson());
        var markdown = report.ToMarkdown();
        Assert.Contains("| pivot | 12.500 | 100 | 25.0% | 1/4 |", markdown);
        Assert.Contains("| fused | 10.250 | 100 | - | 0/0 |", markdown);
    }

    [Fact]
    public void TaskSetErrorsNameTheLine()
    {
        using var folder = new TempFolder();
        var path = folder.File("tasks.jsonl");
        File.WriteAllLines(path, ["""{"prompt": "1+1?", "answer": "2"}""", """{"prompt": "no answer"}"""]);
        var e = Assert.Throws<FuseChat.Fusion.Data.ChatDataFormatException>(() => TaskSet.Read(path));
        Assert.Equal(2, e.LineNumber);
    }
}
