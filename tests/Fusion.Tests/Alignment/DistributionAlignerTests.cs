using FuseChat.Fusion.Alignment;

namespace FuseChat.Fusion.Tests.Alignment;

public class DistributionAlignerTests
{
    // SentencePiece pivot and byte-level source for "Knowledge fusion of chat models".
    private static readonly ListTokenVocabulary Pivot = new(
        ["<unk>", "<s>", "</s>", "▁Know", "ledge", "▁fusion", "▁of", "▁chat", "▁model", "s", "▁fus", "ion", "▁Knowledge", "▁the", "<0x0A>", "▁models"],
        TokenMarkers.SentencePiece, bosId: 1, eosId: 2, unkId: 0);

    private static readonly ListTokenVocabulary Source = new(
        ["<s>", "</s>", "Knowledge", "Ġfus", "ion", "Ġof", "Ġch", "at", "Ġmodels", "Ġchat", "Ġthe", "Ċ", "Know", "ledge", "Ġfusion", "zzz", "Ġion"],
        TokenMarkers.ByteLevel, bosId: 0, eosId: 1);

    private static DistributionAligner Aligner(CooccurrenceStatistics? stats = null) =>
        new(Pivot, Source, VocabularyMap.Build(stats ?? new CooccurrenceStatistics(), Pivot, Source));

    // Source position j's top-K: ids given, logits descending from 10.
    private static (int[] Ids, float[] Logits) TopK(params int[][] rows)
    {
        var k = rows[0].Length;
        var ids = rows.SelectMany(r => r).ToArray();
        var logits = rows.SelectMany(r => Enumerable.Range(0, k).Select(x => 10f - x)).ToArray();
        return (ids, logits);
    }

    [Fact]
    public void OneToOneExactMarkerSwapAndMapFallbackWithDuplicatesDropped()
    {
        // Pivot "▁the" "▁of" aligned to source "Ġthe" "Ġof": position 0 takes source position 0's prediction.
        var stats = new CooccurrenceStatistics();
        stats.Add(9, 15); // zzz co-occurred with "s" only
        var aligner = Aligner(stats);
        var alignment = new TokenAlignment(2, 2, [0, 1], [0, 1]);
        var (ids, logits) = TopK([5, 9, 15, 14], [1, 1, 1, 1]);
        var result = aligner.Align([13, 6], [10, 5], alignment, ids, logits, 4);
        Assert.Equal(DistributionAlignmentKind.OneToOne, result.Kinds[0]);
        Assert.Equal(0, result.SourcePositions[0]);
        // "Ġof" -> "▁of" (6), "Ġchat" -> "▁chat" (7) by swapped markers, "zzz" -> "s" (9) through the map,
        // "Ġfusion" -> "▁fusion" (5).
        Assert.Equal([6, 7, 9, 5], result.IdsAt(0).ToArray());
        Assert.Equal([10f, 9f, 8f, 7f], result.LogitsAt(0).ToArray());
        Assert.Equal(DistributionAlignmentKind.NoTarget, result.Kinds[1]);
        Assert.Equal(0, result.Counts[1]);

        // Duplicates keep the first (highest) logit: "Ġfusion" and "zzz" both land on "▁fusion" here.
        var stats2 = new CooccurrenceStatistics();
        stats2.Add(5, 15);
        var dup = Aligner(stats2).Align([13, 6], [10, 5], alignment, TopK([14, 15, 5, 0], [1, 1, 1, 1]).Ids, logits, 4);
        Assert.Equal([5, 6, 1], dup.IdsAt(0).ToArray());
        Assert.Equal([10f, 8f, 7f], dup.LogitsAt(0).ToArray());
    }

    [Fact]
    public void ByteLevelNewlineMapsToByteFallback()
    {
        var aligner = Aligner();
        Assert.Equal(14, aligner.ToPivotId(11));
        Assert.Equal(0, aligner.ToPivotId(15)); // nothing co-occurred: unk
    }

    [Fact]
    public void ManyToOneSuffixGreedySplitAndOneHot()
    {
        var aligner = Aligner();
        // Pivot "▁fusion" "▁of" against source "Ġfus" "ion" "Ġof": "ion" ends "▁fusion", so pivot 0 takes source 1.
        var suffix = aligner.Align([5, 6], [3, 4, 5], new TokenAlignment(2, 3, [0, 0, 1], [0, 1, 2]),
            TopK([3, 3], [5, 5], [1, 1]).Ids, TopK([3, 3], [5, 5], [1, 1]).Logits, 2);
        Assert.Equal(DistributionAlignmentKind.ManyToOneSuffix, suffix.Kinds[0]);
        Assert.Equal(1, suffix.SourcePositions[0]);
        Assert.Equal([6], suffix.IdsAt(0).ToArray());

        // "Ġfus" "Ġion": with markers no piece ends "▁fusion", but stripped they split it: the last piece's prediction.
        var split = aligner.Align([5, 6], [3, 16, 5], new TokenAlignment(2, 3, [0, 0, 1], [0, 1, 2]),
            TopK([3, 3], [5, 5], [1, 1]).Ids, TopK([3, 3], [5, 5], [1, 1]).Logits, 2);
        Assert.Equal(DistributionAlignmentKind.GreedySplit, split.Kinds[0]);
        Assert.Equal(1, split.SourcePositions[0]);

        // "▁fusion" against "Ġfus" "Ġof" (no split, no suffix): one-hot on the gold NEXT token "▁of".
        var oneHot = aligner.Align([5, 6], [3, 5], new TokenAlignment(2, 2, [0, 0, 1], [0, 1, 1]),
            TopK([3, 3], [5, 5]).Ids, TopK([3, 3], [5, 5]).Logits, 2);
        Assert.Equal(DistributionAlignmentKind.OneHot, oneHot.Kinds[0]);
        Assert.Equal([6], oneHot.IdsAt(0).ToArray());
        Assert.Equal([DistributionAligner.OneHotLogit], oneHot.LogitsAt(0).ToArray());
        Assert.Equal(-1, oneHot.SourcePositions[0]);
    }

    [Fact]
    public void OffByOneOnAConcreteSentence()
    {
        // Pivot:  0 <s> | 1 ▁Know | 2 ledge | 3 ▁fusion | 4 ▁of | 5 ▁chat | 6 ▁model | 7 s
        // Source: 0 <s> | 1 Knowledge | 2 Ġfus | 3 ion | 4 Ġof | 5 Ġch | 6 at | 7 Ġmodels
        int[] pivotIds = [1, 3, 4, 5, 6, 7, 8, 9];
        int[] sourceIds = [0, 2, 3, 4, 5, 6, 7, 8];
        var alignment = new CorpusAligner(Pivot, Source).AlignOne(pivotIds, sourceIds);
        // DTW pairs one-to-one where it can (a split costs twice): "ledge"~"Ġfus", "▁fusion"~"ion"; "▁of"~"Ġof","Ġch" ties
        // with "▁chat"~"Ġch","at" and the diagonal-first rule keeps the former.
        int[][] expected = [[0], [1], [2], [3], [4, 5], [6], [7], [7]];
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i], alignment.SourcesOf(i).ToArray());
        }

        // Each source position predicts its NEXT source token (what a real model would put first).
        int[] sourcePredicts = [2, 3, 4, 5, 6, 7, 8, 1];
        var logits = sourcePredicts.Select(_ => 5f).ToArray();
        var result = Aligner().Align(pivotIds, sourceIds, alignment, sourcePredicts, logits, 1);

        // Pivot position i predicts pivot token i+1. A source distribution is used only where the two contexts end
        // at the same character; the label it lands on is pivot token i+1:
        //   i=0 (<s>)      label ▁Know   <- source 0 (after <s>, predicts "Knowledge"; mapped to unk, no statistics here)
        //   i=1 (▁Know)    label ledge   <- one-hot: "Know" and "Knowledge" end at different characters
        //   i=2 (ledge)    label ▁fusion <- one-hot: DTW paired "ledge" with "Ġfus"
        //   i=3 (▁fusion)  label ▁of     <- source 3 (after "...fus|ion", predicts "Ġof")
        //   i=4 (▁of)      label ▁chat   <- source 4 (after "of", predicts "Ġch"; unk without statistics)
        //   i=5 (▁chat)    label ▁model  <- source 6 (after "...ch|at", predicts "Ġmodels")
        //   i=6 (▁model)   label s       <- one-hot: no source context ends after "model"
        //   i=7 (s)        no label
        Assert.Equal([0, -1, -1, 3, 4, 6, -1, -1], result.SourcePositions);
        Assert.Equal(
            [DistributionAlignmentKind.OneToOne, DistributionAlignmentKind.OneHot, DistributionAlignmentKind.OneHot,
             DistributionAlignmentKind.OneToOne, DistributionAlignmentKind.ManyToOneSuffix, DistributionAlignmentKind.OneToOne,
             DistributionAlignmentKind.OneHot, DistributionAlignmentKind.NoTarget],
            result.Kinds);
        Assert.Equal([4], result.IdsAt(1).ToArray()); // one-hot on "ledge", the next token, not on the input "▁Know"
        Assert.Equal([5], result.IdsAt(2).ToArray()); // one-hot on "▁fusion"
        Assert.Equal([6], result.IdsAt(3).ToArray()); // "Ġof" predicted after "...fusion" lands on label "▁of"
        Assert.Equal([15], result.IdsAt(5).ToArray()); // "Ġmodels" -> "▁models" on label "▁model": tokenizations differ
        Assert.Equal([9], result.IdsAt(6).ToArray()); // one-hot on "s"

        // Aligning the next tokens instead (source j-1 where P[i+1] ~ S[j]) would give pivot position 2 (context
        // "Knowledge") source 2's prediction (context "Knowledge fus"), as "fusion" ends with "ion", and pivot position 6
        // (context "...model") source 6's (context "...chat"), as "models" ends with "s": both the wrong context.
        Assert.Equal([3], alignment.SourcesOf(3).ToArray());
        Assert.Equal([7], alignment.SourcesOf(7).ToArray());
    }
}
