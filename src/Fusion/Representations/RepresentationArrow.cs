using System.Runtime.InteropServices;
using System.Text;
using Apache.Arrow;
using Apache.Arrow.Types;

namespace FuseChat.Fusion.Representations;

/// <summary>
/// The Arrow layout of representation shards: one row per kept conversation,
/// <c>conversation_index: int64, id: utf8, metric_ce: float32, truncated: bool, input_ids: list&lt;int32&gt;,
/// trained: list&lt;bool&gt;, positions: list&lt;int32&gt;, topk_ids: list&lt;fixed_size_list&lt;int32, K&gt;&gt;,
/// topk_logits: list&lt;fixed_size_list&lt;halffloat, K&gt;&gt;</c>; no nulls. Arrow stores list&lt;bool&gt;
/// as a bitmap, so the trained mask costs one bit per token.
/// </summary>
internal static class RepresentationArrow
{
    public const string FormatVersion = "1";

    public static Schema CreateSchema(int k, IReadOnlyDictionary<string, string> metadata)
    {
        var fields = new[]
        {
            new Field("conversation_index", Int64Type.Default, false),
            new Field("id", StringType.Default, false),
            new Field("metric_ce", FloatType.Default, false),
            new Field("truncated", BooleanType.Default, false),
            new Field("input_ids", new ListType(new Field("item", Int32Type.Default, false)), false),
            new Field("trained", new ListType(new Field("item", BooleanType.Default, false)), false),
            new Field("positions", new ListType(new Field("item", Int32Type.Default, false)), false),
            new Field("topk_ids", new ListType(new Field("item", TopKType(Int32Type.Default, k), false)), false),
            new Field("topk_logits", new ListType(new Field("item", TopKType(HalfFloatType.Default, k), false)), false),
        };
        var all = new Dictionary<string, string>(metadata) { ["fusechat.format"] = FormatVersion, ["fusechat.top_k"] = k.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        return new Schema(fields, all);
    }

    private static FixedSizeListType TopKType(IArrowType element, int k) => new(new Field("item", element, false), k);

    public static RecordBatch ToRecordBatch(Schema schema, IReadOnlyList<ConversationRepresentation> records, int k)
    {
        var n = records.Count;
        foreach (var r in records)
            if (r.TopK != k) throw new ArgumentException($"conversation {r.Id} has top-{r.TopK} entries, the shard top-{k}");
        var idBytes = new List<byte>();
        var idOffsets = new int[n + 1];
        for (var i = 0; i < n; i++)
        {
            idBytes.AddRange(Encoding.UTF8.GetBytes(records[i].Id));
            idOffsets[i + 1] = idBytes.Count;
        }

        var columns = new IArrowArray[]
        {
            new Int64Array(Buffer(records.Select(r => r.ConversationIndex).ToArray()), ArrowBuffer.Empty, n, 0, 0),
            new StringArray(n, Buffer(idOffsets), new ArrowBuffer(idBytes.ToArray()), ArrowBuffer.Empty, 0, 0),
            new FloatArray(Buffer(records.Select(r => r.MetricCe).ToArray()), ArrowBuffer.Empty, n, 0, 0),
            Booleans(records.Select(r => r.Truncated).ToArray()),
            IntList(records.Select(r => r.InputIds).ToList()),
            BoolList(records.Select(r => r.Trained).ToList()),
            IntList(records.Select(r => r.Positions).ToList()),
            TopKList(schema, 7, records.Select(r => r.Positions.Length).ToList(),
                p => new Int32Array(Buffer(records.SelectMany(r => r.TopKIds).ToArray()), ArrowBuffer.Empty, p, 0, 0), k),
            TopKList(schema, 8, records.Select(r => r.Positions.Length).ToList(),
                p => new HalfFloatArray(Buffer(records.SelectMany(r => r.TopKLogits).ToArray()), ArrowBuffer.Empty, p, 0, 0), k),
        };
        return new RecordBatch(schema, columns, n);
    }

    public static IEnumerable<ConversationRepresentation> FromRecordBatch(RecordBatch batch, int k)
    {
        var index = Column<Int64Array>(batch, "conversation_index");
        var id = Column<StringArray>(batch, "id");
        var ce = Column<FloatArray>(batch, "metric_ce");
        var truncated = Column<BooleanArray>(batch, "truncated");
        var inputIds = Column<ListArray>(batch, "input_ids");
        var trained = Column<ListArray>(batch, "trained");
        var positions = Column<ListArray>(batch, "positions");
        var topIds = Column<ListArray>(batch, "topk_ids");
        var topLogits = Column<ListArray>(batch, "topk_logits");
        var inputValues = (Int32Array)inputIds.Values;
        var trainedValues = (BooleanArray)trained.Values;
        var positionValues = (Int32Array)positions.Values;
        var idValues = (Int32Array)((FixedSizeListArray)topIds.Values).Values;
        var logitValues = (HalfFloatArray)((FixedSizeListArray)topLogits.Values).Values;
        for (var i = 0; i < batch.Length; i++)
        {
            var flags = new bool[trained.GetValueLength(i)];
            var flagStart = trained.ValueOffsets[i];
            for (var t = 0; t < flags.Length; t++) flags[t] = trainedValues.GetValue(flagStart + t) ?? false;
            yield return new ConversationRepresentation(
                index.GetValue(i) ?? 0, id.GetString(i), ce.GetValue(i) ?? float.NaN, truncated.GetValue(i) ?? false,
                Slice(inputValues.Values, inputIds, i, 1), flags, Slice(positionValues.Values, positions, i, 1), k,
                Slice(idValues.Values, topIds, i, k), Slice(logitValues.Values, topLogits, i, k));
        }
    }

    private static T Column<T>(RecordBatch batch, string name) where T : class, IArrowArray =>
        batch.Column(name) as T ?? throw new InvalidDataException($"column {name} is missing or is not {typeof(T).Name}");

    private static T[] Slice<T>(ReadOnlySpan<T> values, ListArray list, int row, int width) =>
        values.Slice(list.ValueOffsets[row] * width, list.GetValueLength(row) * width).ToArray();

    private static ArrowBuffer Buffer<T>(T[] values) where T : unmanaged => new(MemoryMarshal.AsBytes(values.AsSpan()).ToArray());

    private static BooleanArray Booleans(bool[] values) => new(Bits(values), ArrowBuffer.Empty, values.Length, 0, 0);

    private static ArrowBuffer Bits(IReadOnlyList<bool> values)
    {
        var bytes = new byte[(values.Count + 7) / 8];
        for (var i = 0; i < values.Count; i++)
            if (values[i]) bytes[i >> 3] |= (byte)(1 << (i & 7));
        return new ArrowBuffer(bytes);
    }

    private static int[] Offsets(IReadOnlyList<int> lengths)
    {
        var offsets = new int[lengths.Count + 1];
        for (var i = 0; i < lengths.Count; i++) offsets[i + 1] = checked(offsets[i] + lengths[i]);
        return offsets;
    }

    private static ListArray IntList(IReadOnlyList<int[]> rows)
    {
        var offsets = Offsets(rows.Select(r => r.Length).ToList());
        var values = new Int32Array(Buffer(rows.SelectMany(r => r).ToArray()), ArrowBuffer.Empty, offsets[^1], 0, 0);
        return new ListArray(new ListType(new Field("item", Int32Type.Default, false)), rows.Count, Buffer(offsets), values, ArrowBuffer.Empty, 0, 0);
    }

    private static ListArray BoolList(IReadOnlyList<bool[]> rows)
    {
        var offsets = Offsets(rows.Select(r => r.Length).ToList());
        var flat = rows.SelectMany(r => r).ToArray();
        var values = new BooleanArray(Bits(flat), ArrowBuffer.Empty, flat.Length, 0, 0);
        return new ListArray(new ListType(new Field("item", BooleanType.Default, false)), rows.Count, Buffer(offsets), values, ArrowBuffer.Empty, 0, 0);
    }

    private static ListArray TopKList(Schema schema, int column, IReadOnlyList<int> positionsPerRow, Func<int, IArrowArray> elements, int k)
    {
        var listType = (ListType)schema.GetFieldByIndex(column).DataType;
        var offsets = Offsets(positionsPerRow);
        var rowsOfK = offsets[^1];
        var fixedList = new FixedSizeListArray(listType.ValueDataType, rowsOfK, elements(checked(rowsOfK * k)), ArrowBuffer.Empty, 0, 0);
        return new ListArray(listType, positionsPerRow.Count, Buffer(offsets), fixedList, ArrowBuffer.Empty, 0, 0);
    }
}
