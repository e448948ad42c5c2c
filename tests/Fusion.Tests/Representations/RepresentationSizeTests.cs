using FuseChat.Fusion.Representations;
using FuseChat.Fusion.Tests.Tokenization;
using Xunit.Abstractions;

namespace FuseChat.Fusion.Tests.Representations;

/// <summary>
/// Storage cost on chat-shaped data (short user turns, longer replies, built from the tokenizer test
/// corpus): bytes per stored token with and without ZSTD buffer compression.
/// </summary>
public sealed class RepresentationSizeTests(RepresentationFixture fixture, ITestOutputHelper output) : IClassFixture<RepresentationFixture>
{
    public static IEnumerable<(string Id, (string Role, string Content)[] Messages)> ChatShapedData(int count)
    {
        var lines = TokenizerFixtures.Corpus().Where(l => l.Trim().Length >= 20).ToList();
        var random = new Random(1234);
        string Pick() => lines[random.Next(lines.Count)].Trim();
        for (var c = 0; c < count; c++)
        {
            var messages = new List<(string, string)>();
            var turns = 1 + random.Next(3);
            for (var t = 0; t < turns; t++)
            {
                messages.Add(("user", Pick()));
                messages.Add(("assistant", string.Join(random.Next(2) == 0 ? " " : "\n", Enumerable.Range(0, 3 + random.Next(5)).Select(_ => Pick()))));
            }
            yield return ($"chat-{c}", messages.ToArray());
        }
    }

    [Fact]
    public void ZstdShards_AreSmallerThanPlainOnes_AndBytesPerTokenIsReported()
    {
        var data = RepresentationFixture.WriteData(Path.Combine(fixture.NewFolder("size"), "chat.jsonl"), ChatShapedData(60));
        // For manual CLI runs (fusechat represent): keep the tiny model and this data in a folder of your choice.
        if (Environment.GetEnvironmentVariable("FUSECHAT_REPRESENT_SAMPLE") is { Length: > 0 } keep)
        {
            Directory.CreateDirectory(keep);
            File.Copy(data, Path.Combine(keep, "chat.jsonl"), overwrite: true);
            var modelCopy = Path.Combine(keep, "model");
            Directory.CreateDirectory(modelCopy);
            foreach (var file in Directory.GetFiles(fixture.ModelFolder)) File.Copy(file, Path.Combine(modelCopy, Path.GetFileName(file)), overwrite: true);
        }

        var sizes = new Dictionary<RepresentationCompression, RepresentationSummary>();
        foreach (var compression in new[] { RepresentationCompression.None, RepresentationCompression.Zstd })
        {
            var summary = RepresentationRunner.Run(new RepresentationJob
            {
                ModelFolder = fixture.ModelFolder,
                DataPath = data,
                Template = "openchat_3.5",
                OutputFolder = fixture.NewFolder("size-" + compression),
                Options = new RepresentationOptions { TopK = 10, ShardSize = 100, Compression = compression },
            });
            sizes[compression] = summary;
            output.WriteLine($"{compression}: {summary.Written} conversations, {summary.Tokens} tokens, {summary.TrainedPositions} trained positions "
                + $"({(double)summary.TrainedPositions / summary.Tokens:P0}), {summary.Bytes} bytes: {summary.BytesPerToken:F2} B/token, "
                + $"{summary.BytesPerTrainedPosition:F2} B/trained position");
        }
        Assert.Equal(60, sizes[RepresentationCompression.Zstd].Written);
        Assert.True(sizes[RepresentationCompression.Zstd].Bytes < sizes[RepresentationCompression.None].Bytes);
    }

    [Fact]
    public void BytesPerToken_WithTrainedModelLikeTopK_IsReported()
    {
        // A random tiny model's top-K barely changes from position to position, which compresses far
        // better than a trained model's would. Here the real token ids and masks of chat-shaped data get
        // synthetic top-K entries shaped like a trained model's: the gold next token first 60% of the
        // time, the rest drawn from a Zipf law over the 32000 ids, logits falling from about 15 by random
        // gaps. This measures the format on data as hard to compress as a real run's is likely to be.
        var template = FuseChat.Fusion.Templates.ChatTemplates.Get("openchat_3.5");
        var random = new Random(99);
        var zipf = ZipfSampler(32000, 1.1);
        var records = ChatShapedData(200).Select((c, index) =>
        {
            var conversation = new FuseChat.Fusion.Templates.Conversation(c.Messages.Select(m => new FuseChat.Fusion.Templates.ChatMessage(
                m.Role == "user" ? FuseChat.Fusion.Templates.ChatRole.User : FuseChat.Fusion.Templates.ChatRole.Assistant, m.Content)).ToList());
            var encoded = FuseChat.Fusion.Templates.ChatEncoder.Encode(conversation, template, fixture.Tokenizer);
            var positions = Enumerable.Range(0, encoded.Ids.Length - 1).Where(t => encoded.Trained[t + 1]).ToArray();
            var ids = new int[positions.Length * 10];
            var logits = new Half[positions.Length * 10];
            for (var p = 0; p < positions.Length; p++)
            {
                var chosen = new HashSet<int>();
                if (random.NextDouble() < 0.6) chosen.Add(encoded.Ids[positions[p] + 1]);
                while (chosen.Count < 10) chosen.Add(zipf(random));
                var value = 15 + 3 * (random.NextDouble() * 2 - 1);
                var j = 0;
                foreach (var id in chosen)
                {
                    ids[p * 10 + j] = id;
                    logits[p * 10 + j] = (Half)value;
                    value -= -Math.Log(1 - random.NextDouble()) * 0.7;
                    j++;
                }
            }
            return new ConversationRepresentation(index, c.Id, (float)(1 + random.NextDouble()), false, encoded.Ids, encoded.Trained, positions, 10, ids, logits);
        }).ToList();
        var tokens = records.Sum(r => (long)r.InputIds.Length);
        var trained = records.Sum(r => (long)r.Positions.Length);
        var folder = fixture.NewFolder("synthetic");
        Directory.CreateDirectory(folder);
        long zstdBytes = 0;
        foreach (var compression in new[] { RepresentationCompression.None, RepresentationCompression.Zstd })
        {
            var path = Path.Combine(folder, $"{compression}.arrow");
            RepresentationShardFile.Write(path, records, 10, compression, new Dictionary<string, string>());
            var bytes = new FileInfo(path).Length;
            if (compression == RepresentationCompression.Zstd) zstdBytes = bytes;
            output.WriteLine($"{compression}: {tokens} tokens, {trained} trained positions ({(double)trained / tokens:P0}), {bytes} bytes: "
                + $"{(double)bytes / tokens:F2} B/token, {(double)bytes / trained:F2} B/trained position");
            Assert.Equal(records.Count, RepresentationReader.ReadShard(path).Zip(records, (a, b) => a.ContentEquals(b)).Count(same => same));
        }
        Assert.True(zstdBytes > 0);
    }

    private static Func<Random, int> ZipfSampler(int n, double s)
    {
        var cumulative = new double[n];
        double total = 0;
        for (var i = 0; i < n; i++) cumulative[i] = total += 1 / Math.Pow(i + 1, s);
        // Ranks are scattered over the ids so that frequent tokens are not all small numbers.
        var permutation = Enumerable.Range(0, n).ToArray();
        var shuffle = new Random(5);
        shuffle.Shuffle(permutation);
        return random =>
        {
            var u = random.NextDouble() * total;
            var rank = Array.BinarySearch(cumulative, u);
            return permutation[rank < 0 ? ~rank : rank];
        };
    }
}
