using FuseChat.Fusion.Alignment;

namespace FuseChat.Bench.Align;

/// <summary>
/// One bench window: a text tokenized by a tokenizer pair (<see cref="Combo"/>, an index into the bench's pairs),
/// as token ids, which the product aligns through that pair's <see cref="CorpusAligner"/>, and as token strings
/// (the source's in the pivot's spelling), which the full-matrix peer compares. Random worst-case pairs have no
/// ids (<see cref="Combo"/> -1).
/// </summary>
internal sealed record BenchWindow(int Combo, string[] Pivot, string[] Source, int[] PivotIds, int[] SourceIds);
