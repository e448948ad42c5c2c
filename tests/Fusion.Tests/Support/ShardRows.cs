using System.Text.Json;
using FuseChat.Fusion.Representations;
using Xunit.Abstractions;

namespace FuseChat.Fusion.Tests.Support;

/// <summary>Checks another Arrow implementation's reading of one of our shards against our own reader.</summary>
internal static class ShardRows
{
    /// <summary>pyarrow's name of the top-K ids' type at K = 10.</summary>
    public const string PyArrowIds = "fixed_size_list<item: int32 not null>[10]";

    /// <summary>pyarrow's name of the top-K logits' type at K = 10.</summary>
    public const string PyArrowLogits = "fixed_size_list<item: halffloat not null>[10]";

    /// <summary>
    /// Compares a second implementation's reading of <paramref name="shard"/> (read-arrow.js or read-arrow.py: the
    /// schema line, then one JSON object per row) with our reader's records, value by value. Both scripts write a
    /// non-finite logit as null (JSON has no -inf); unused slots hold -inf.
    /// </summary>
    public static void AssertSame(string shard, string[] lines, string idsType, string logitsType, ITestOutputHelper output)
    {
        var ours = RepresentationReader.ReadShard(shard).ToList();
        using var schema = JsonDocument.Parse(lines[0]);
        output.WriteLine(lines[0]);
        var types = schema.RootElement.GetProperty("fields").EnumerateArray()
            .ToDictionary(f => f.GetProperty("name").GetString()!, f => f.GetProperty("type").GetString()!);
        Assert.Equal("10", schema.RootElement.GetProperty("metadata").GetProperty("fusechat.top_k").GetString());
        Assert.Contains(idsType, types["topk_ids"], StringComparison.Ordinal);
        Assert.Contains(logitsType, types["topk_logits"], StringComparison.Ordinal);
        Assert.NotEmpty(ours);
        Assert.Equal(ours.Count, lines.Length - 1);
        for (var i = 0; i < ours.Count; i++)
        {
            using var row = JsonDocument.Parse(lines[i + 1]);
            var r = row.RootElement;
            var mine = ours[i];
            Assert.Equal(mine.ConversationIndex, r.GetProperty("conversation_index").GetInt64());
            Assert.Equal(mine.Id, r.GetProperty("id").GetString());
            Assert.Equal(mine.MetricCe, r.GetProperty("metric_ce").GetSingle());
            Assert.Equal(mine.InputIds, r.GetProperty("input_ids").EnumerateArray().Select(e => e.GetInt32()));
            Assert.Equal(mine.Trained, r.GetProperty("trained").EnumerateArray().Select(e => e.GetBoolean()));
            Assert.Equal(mine.Positions, r.GetProperty("positions").EnumerateArray().Select(e => e.GetInt32()));
            Assert.Equal(mine.TopKIds, r.GetProperty("topk_ids").EnumerateArray().SelectMany(p => p.EnumerateArray()).Select(e => e.GetInt32()));
            Assert.Equal(mine.TopKLogits.Select(h => (double)(float)h),
                r.GetProperty("topk_logits").EnumerateArray().SelectMany(p => p.EnumerateArray())
                    .Select(e => e.ValueKind == JsonValueKind.Null ? double.NegativeInfinity : e.GetDouble()));
        }
    }
}
