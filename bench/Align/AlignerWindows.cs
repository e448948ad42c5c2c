using FuseChat.Fusion.Alignment;

namespace FuseChat.Bench.Align;

/// <summary>
/// The product's way into the DTW for each bench window: its token ids through the tokenizer pair's
/// <see cref="CorpusAligner"/> (as `fusechat align` and the alignment grains call it), found by the window's pivot
/// string array. The strings stay for the full-matrix peer, which compares token strings.
/// </summary>
internal static class AlignerWindows
{
    private static readonly Dictionary<string[], (int[] PivotIds, int[] SourceIds, CorpusAligner Aligner)> s_windows =
        new(ReferenceEqualityComparer.Instance);

    /// <summary>Registers a window (before any timing; lookups are concurrent reads only).</summary>
    public static void Add(string[] pivot, int[] pivotIds, int[] sourceIds, CorpusAligner aligner) =>
        s_windows.Add(pivot, (pivotIds, sourceIds, aligner));

    /// <summary>Aligns a registered window by its ids.</summary>
    public static TokenAlignment Align(string[] pivot, string[] source)
    {
        var (pivotIds, sourceIds, aligner) = s_windows[pivot];
        return aligner.AlignOne(pivotIds, sourceIds);
    }
}
