using System.Numerics.Tensors;

namespace FuseChat.Fusion.Alignment;

/// <summary>
/// Lower bound of the DTW cost still to pay from cell (i, j) to the end, kept row by row in two arrays of the
/// workspace: Rows[j] = number of pivot tokens after i with no equal token (same comparison form, cost 0) in
/// source columns &gt;= j; Cols[j] = number of source tokens after j with no equal token in pivot rows &gt;= i. Each
/// such token's row (column) is still to be crossed by the path at a cost of at least 1, so max(Rows[j], Cols[j])
/// is a lower bound; it drops by at most the cost of one step (a consistent bound), which keeps pruning exact.
/// Moving to the next row is one vectorised decrement of a suffix of Rows and increments of prefixes of Cols.
/// </summary>
internal readonly ref struct RestBound
{
    private readonly DtwWorkspace _w;
    private readonly int _m;

    /// <summary>Sets up row 0.</summary>
    public RestBound(DtwWorkspace w, DtwTokenTable table, int n, int m)
    {
        _w = w;
        _m = m;
        w.EnsureRest(n, m);
        // Last position of each comparison form on the other side (-1: none).
        var lastInSource = w.LastOf;
        lastInSource.Clear();
        for (var j = 0; j < m; j++)
        {
            lastInSource[Key(table.Source(w.SLocal[j]))] = j;
        }
        var lastInPivot = w.LastOfPivot;
        lastInPivot.Clear();
        for (var i = 0; i < n; i++)
        {
            lastInPivot[Key(table.Pivot(w.PLocal[i]))] = i;
        }
        // Pivot token i counts in Rows[j] for j >= v(i) = its last equal column + 1, while i is after the row.
        var rows = w.RestRows.AsSpan(0, m + 1);
        rows.Clear();
        var v = w.RestV;
        for (var i = 0; i < n; i++)
        {
            v[i] = lastInSource.TryGetValue(Key(table.Pivot(w.PLocal[i])), out var at) ? at + 1 : 0;
            if (i > 0)
            {
                rows[v[i]]++;
            }
        }
        for (var j = 1; j <= m; j++)
        {
            rows[j] += rows[j - 1];
        }
        // Source token j counts in Cols[k] for k < j from row w(j) = its last equal row + 1 on; bucketed by w(j).
        var cols = w.RestCols.AsSpan(0, m + 1);
        cols.Clear();
        var head = w.RestHead.AsSpan(0, n + 1);
        head.Fill(-1);
        var next = w.RestNext;
        for (var j = m - 1; j >= 0; j--)
        {
            var from = lastInPivot.TryGetValue(Key(table.Source(w.SLocal[j])), out var at) ? at + 1 : 0;
            if (from == 0)
            {
                cols[j]++;
            }
            else
            {
                next[j] = head[from];
                head[from] = j;
            }
        }
        // cols[k] so far: 1 where source k counts from row 0; make it the count over k' > k.
        var running = 0;
        for (var k = m - 1; k >= 0; k--)
        {
            var here = cols[k];
            cols[k] = running;
            running += here;
        }
    }

    /// <summary>Moves the bound from row i - 1 to row i.</summary>
    public void EnterRow(int i)
    {
        var vi = _w.RestV[i];
        if (vi < _m)
        {
            var tail = _w.RestRows.AsSpan(vi, _m - vi);
            TensorPrimitives.Subtract(tail, 1, tail);
        }
        for (var j = _w.RestHead[i]; j >= 0; j = _w.RestNext[j])
        {
            if (j > 0)
            {
                var prefix = _w.RestCols.AsSpan(0, j);
                TensorPrimitives.Add(prefix, 1, prefix);
            }
        }
    }

    // Equal keys, cost 0: both stripped forms equal, or both bare markers with equal unified forms (a bare marker
    // against a non-bare token compares unified forms, which then always differ).
    private static int Key(DtwToken t) => t.Length > 0 ? 2 * t.Class : 2 * t.UClass + 1;
}
