namespace FuseChat.Fusion.Alignment;

/// <summary>
/// A monotone alignment between the positions of a pivot sequence and a source sequence: the cells of a
/// warping path, with lookups in both directions (compressed rows, so a lookup is a span, no allocation).
/// </summary>
public sealed class TokenAlignment
{
    private readonly int[] _pivotOffsets;
    private readonly int[] _pivotSources;
    private readonly int[] _sourceOffsets;
    private readonly int[] _sourcePivots;

    /// <summary>Builds the alignment from path cells ordered by pivot position, then source position.</summary>
    /// <param name="pivotLength">Number of pivot positions.</param>
    /// <param name="sourceLength">Number of source positions.</param>
    /// <param name="pathPivots">Pivot position of each path cell.</param>
    /// <param name="pathSources">Source position of each path cell.</param>
    public TokenAlignment(int pivotLength, int sourceLength, int[] pathPivots, int[] pathSources)
    {
        ArgumentNullException.ThrowIfNull(pathPivots);
        ArgumentNullException.ThrowIfNull(pathSources);
        if (pathPivots.Length != pathSources.Length)
        {
            throw new ArgumentException("Path arrays differ in length.", nameof(pathSources));
        }
        PivotLength = pivotLength;
        SourceLength = sourceLength;
        PathPivots = pathPivots;
        PathSources = pathSources;
        _pivotOffsets = new int[pivotLength + 1];
        _sourceOffsets = new int[sourceLength + 1];
        var monotone = true;
        for (var k = 0; k < pathPivots.Length; k++)
        {
            _pivotOffsets[pathPivots[k] + 1]++;
            _sourceOffsets[pathSources[k] + 1]++;
            monotone &= k == 0 || pathPivots[k] >= pathPivots[k - 1] && pathSources[k] >= pathSources[k - 1];
        }
        for (var i = 0; i < pivotLength; i++)
        {
            _pivotOffsets[i + 1] += _pivotOffsets[i];
        }
        for (var j = 0; j < sourceLength; j++)
        {
            _sourceOffsets[j + 1] += _sourceOffsets[j];
        }
        if (monotone)
        {
            // A warping path (every DTW result) is ascending in both coordinates: grouped by pivot it lists the sources
            // in path order, and grouped by source the pivots, so the path arrays are the two lookups already.
            _pivotSources = pathSources;
            _sourcePivots = pathPivots;
            return;
        }
        _pivotSources = new int[pathPivots.Length];
        _sourcePivots = new int[pathPivots.Length];
        var pivotFill = _pivotOffsets[..^1];
        var sourceFill = _sourceOffsets[..^1];
        // Cells ordered by pivot position, then source position: every row stays sorted.
        for (var k = 0; k < pathPivots.Length; k++)
        {
            _pivotSources[pivotFill[pathPivots[k]]++] = pathSources[k];
            _sourcePivots[sourceFill[pathSources[k]]++] = pathPivots[k];
        }
    }

    /// <summary>Total cost of the warping path (0 when it was not computed by <see cref="DynamicTimeWarping"/>).</summary>
    public int Cost { get; init; }

    /// <summary>Number of pivot positions.</summary>
    public int PivotLength { get; }

    /// <summary>Number of source positions.</summary>
    public int SourceLength { get; }

    /// <summary>Pivot position of each cell of the warping path, from the first cell to the last.</summary>
    public IReadOnlyList<int> PathPivots { get; }

    /// <summary>Source position of each cell of the warping path, from the first cell to the last.</summary>
    public IReadOnlyList<int> PathSources { get; }

    /// <summary>Source positions aligned to pivot position <paramref name="pivotPosition"/>, ascending.</summary>
    public ReadOnlySpan<int> SourcesOf(int pivotPosition) =>
        _pivotSources.AsSpan(_pivotOffsets[pivotPosition], _pivotOffsets[pivotPosition + 1] - _pivotOffsets[pivotPosition]);

    /// <summary>Pivot positions aligned to source position <paramref name="sourcePosition"/>, ascending.</summary>
    public ReadOnlySpan<int> PivotsOf(int sourcePosition) =>
        _sourcePivots.AsSpan(_sourceOffsets[sourcePosition], _sourceOffsets[sourcePosition + 1] - _sourceOffsets[sourcePosition]);
}
