using FuseChat.Fusion.Checkpoints;

namespace FuseChat.Fusion.Tests.Checkpoints;

public class SafetensorsValidationTests
{
    private static CheckpointFormatException OpenFails(string path)
    {
        var e = Assert.Throws<CheckpointFormatException>(() => SafetensorsFile.Open(path).Dispose());
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        Assert.Equal(path, e.FilePath);
        return e;
    }

    [Fact]
    public void FileShorterThanLengthFieldIsTruncated()
    {
        using var dir = new TempFolder();
        var path = dir.File("short.safetensors");
        File.WriteAllBytes(path, [1, 2, 3]);
        Assert.Contains("truncated: 3 bytes", OpenFails(path).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void EmptyFileIsTruncated()
    {
        using var dir = new TempFolder();
        var path = dir.File("empty.safetensors");
        File.WriteAllBytes(path, []);
        Assert.Contains("truncated", OpenFails(path).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void HeaderLongerThanFileIsTruncated()
    {
        using var dir = new TempFolder();
        var path = dir.File("cut.safetensors");
        SafetensorsTestData.WriteRaw(path, "{}", 0, headerLengthOverride: 4096);
        Assert.Contains("truncated: header length is 4096", OpenFails(path).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void InsaneHeaderLengthIsRejected()
    {
        using var dir = new TempFolder();
        var path = dir.File("huge.safetensors");
        SafetensorsTestData.WriteRaw(path, "{}", 0, headerLengthOverride: ulong.MaxValue);
        Assert.Contains("exceeds the limit", OpenFails(path).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TruncatedDataIsReportedWithTheTensor()
    {
        using var dir = new TempFolder();
        var full = dir.File("full.safetensors");
        SafetensorsTestData.Write(full, [
            (new TensorDeclaration("a", SafetensorsDType.F32, [4]), new byte[16]),
            (new TensorDeclaration("b", SafetensorsDType.F32, [4]), new byte[16])]);
        var bytes = File.ReadAllBytes(full);
        var cut = dir.File("cut.safetensors");
        File.WriteAllBytes(cut, bytes[..^5]);
        var e = OpenFails(cut);
        Assert.Equal("b", e.TensorName);
        Assert.Contains("tensor 'b'", e.Message, StringComparison.Ordinal);
        Assert.Contains("out of range", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void OffsetsOutOfRangeNameTheTensor()
    {
        using var dir = new TempFolder();
        var path = dir.File("range.safetensors");
        SafetensorsTestData.WriteRaw(path, """{"w":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}""", 8);
        var e = OpenFails(path);
        Assert.Contains("tensor 'w'", e.Message, StringComparison.Ordinal);
        Assert.Contains("data_offsets [8, 16] are out of range: the data section holds 8 bytes", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void BadJsonIsReported()
    {
        using var dir = new TempFolder();
        var path = dir.File("json.safetensors");
        SafetensorsTestData.WriteRaw(path, """{"w":{"dtype":"F32",""", 0);
        Assert.Contains("header is not valid JSON", OpenFails(path).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NonObjectHeaderIsReported()
    {
        using var dir = new TempFolder();
        var path = dir.File("array.safetensors");
        SafetensorsTestData.WriteRaw(path, "[1,2]", 0);
        Assert.Contains("must be a JSON object", OpenFails(path).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DTypeShapeSizeMismatchNamesTheTensor()
    {
        using var dir = new TempFolder();
        var path = dir.File("size.safetensors");
        SafetensorsTestData.WriteRaw(path, """{"layer.weight":{"dtype":"BF16","shape":[2,3],"data_offsets":[0,8]}}""", 8);
        var e = OpenFails(path);
        Assert.Equal("layer.weight", e.TensorName);
        Assert.Contains("dtype BF16 with shape [2, 3] needs 12 bytes but data_offsets [0, 8] span 8", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void OverlappingTensorsAreRejected()
    {
        using var dir = new TempFolder();
        var path = dir.File("overlap.safetensors");
        SafetensorsTestData.WriteRaw(
            path,
            """{"a":{"dtype":"U8","shape":[8],"data_offsets":[0,8]},"b":{"dtype":"U8","shape":[4],"data_offsets":[4,8]}}""",
            8);
        var e = OpenFails(path);
        Assert.Contains("overlaps tensor", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void UnknownDTypeNamesTheTensorAndListsSupportedOnes()
    {
        using var dir = new TempFolder();
        var path = dir.File("dtype.safetensors");
        SafetensorsTestData.WriteRaw(path, """{"q":{"dtype":"F4","shape":[2],"data_offsets":[0,1]}}""", 1);
        var e = OpenFails(path);
        Assert.Contains("tensor 'q'", e.Message, StringComparison.Ordinal);
        Assert.Contains("unsupported dtype \"F4\"", e.Message, StringComparison.Ordinal);
        Assert.Contains("BF16", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"t":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}""", "shape entries must be non-negative")]
    [InlineData("""{"t":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}}""", "end before they begin")]
    [InlineData("""{"t":{"dtype":"F32","shape":[1]}}""", "data_offsets")]
    [InlineData("""{"t":{"shape":[1],"data_offsets":[0,4]}}""", "dtype")]
    [InlineData("""{"t":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"t":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", "twice")]
    [InlineData("""{"t":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,4]}}""", "overflows")]
    public void MalformedEntriesNameTheTensor(string header, string expected)
    {
        using var dir = new TempFolder();
        var path = dir.File("bad.safetensors");
        SafetensorsTestData.WriteRaw(path, header, 8);
        var e = OpenFails(path);
        Assert.Contains("tensor 't'", e.Message, StringComparison.Ordinal);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NonStringMetadataIsRejected()
    {
        using var dir = new TempFolder();
        var path = dir.File("meta.safetensors");
        SafetensorsTestData.WriteRaw(path, """{"__metadata__":{"format":1}}""", 0);
        Assert.Contains("__metadata__ entry 'format' must be a string", OpenFails(path).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MissingTensorLookupNamesTheFile()
    {
        using var dir = new TempFolder();
        var path = dir.File("ok.safetensors");
        SafetensorsTestData.Write(path, [(new TensorDeclaration("a", SafetensorsDType.U8, [1]), [7])]);
        using var file = SafetensorsFile.Open(path);
        var e = Assert.Throws<KeyNotFoundException>(() => file.GetTensor("b"));
        Assert.Contains("'b'", e.Message, StringComparison.Ordinal);
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
    }
}
