using System.Buffers.Binary;
using System.Text;
using FuseChat.Fusion.Checkpoints;

namespace FuseChat.Fusion.Tests.Checkpoints;

public class SafetensorsRoundTripTests
{
    public static TheoryData<SafetensorsDType> AllDTypes()
    {
        var data = new TheoryData<SafetensorsDType>();
        foreach (var d in SafetensorsDTypes.All)
        {
            data.Add(d);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(AllDTypes))]
    public void RoundTripIsBitExactForEachDType(SafetensorsDType dtype)
    {
        using var dir = new TempFolder();
        var path = dir.File("t.safetensors");
        var tensors = new (TensorDeclaration, byte[])[]
        {
            (new TensorDeclaration("matrix", dtype, [3, 5]), SafetensorsTestData.RandomBytes(15 * dtype.ElementSize(), 1)),
            (new TensorDeclaration("scalar", dtype, []), SafetensorsTestData.RandomBytes(dtype.ElementSize(), 2)),
            (new TensorDeclaration("empty", dtype, [0, 4]), []),
            (new TensorDeclaration("cube", dtype, [2, 1, 3]), SafetensorsTestData.RandomBytes(6 * dtype.ElementSize(), 3)),
        };
        SafetensorsTestData.Write(path, tensors);

        using var file = SafetensorsFile.Open(path);
        Assert.Equal(4, file.Tensors.Count);
        Assert.Equal("pt", file.Metadata["format"]);
        Assert.Equal(0, file.HeaderLength % 8);
        foreach (var (declaration, data) in tensors)
        {
            var info = file.GetTensor(declaration.Name);
            Assert.Equal(dtype, info.DType);
            Assert.Equal(declaration.Shape.ToArray(), info.Shape.ToArray());
            Assert.Equal(data.Length, info.ByteLength);
            Assert.True(file.GetSpan(declaration.Name).SequenceEqual(data));
            var copy = new byte[data.Length];
            file.CopyTo(declaration.Name, copy);
            Assert.Equal(data, copy);
            using var stream = file.OpenRead(declaration.Name);
            var streamed = new byte[data.Length];
            stream.ReadExactly(streamed);
            Assert.Equal(data, streamed);
        }
    }

    [Fact]
    public void HeaderIsPaddedWithSpacesToEightBytesAndCarriesFormatPt()
    {
        using var dir = new TempFolder();
        var path = dir.File("t.safetensors");
        SafetensorsTestData.Write(path, [(new TensorDeclaration("a", SafetensorsDType.F32, [1]), new byte[4])]);

        var bytes = File.ReadAllBytes(path);
        var n = (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.Equal(0, n % 8);
        var header = Encoding.UTF8.GetString(bytes, 8, n);
        Assert.StartsWith("{\"__metadata__\":{\"format\":\"pt\"},\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", header, StringComparison.Ordinal);
        Assert.True(header.TrimEnd(' ').EndsWith('}'));
        Assert.Equal(8 + n + 4, bytes.Length);
    }

    [Fact]
    public void TensorsMayBeWrittenOutOfOrderAndInChunks()
    {
        using var dir = new TempFolder();
        var path = dir.File("t.safetensors");
        var a = SafetensorsTestData.RandomBytes(4000, 5);
        var b = SafetensorsTestData.RandomBytes(16, 6);
        using (var writer = new SafetensorsWriter(path, [new("a", SafetensorsDType.U8, [4000]), new("b", SafetensorsDType.I64, [2])]))
        {
            writer.WriteTensor("b", b);
            writer.WriteTensorChunk("a", 1000, a.AsSpan(1000));
            writer.WriteTensorChunk("a", 0, a.AsSpan(0, 1000));
            writer.Complete();
        }

        using var file = SafetensorsFile.Open(path);
        Assert.Equal(a, file.ReadBytes("a"));
        Assert.Equal(b, file.ReadBytes("b"));
        var middle = new byte[10];
        file.CopyTo("a", 1995, middle);
        Assert.Equal(a.AsSpan(1995, 10).ToArray(), middle);
    }

    [Fact]
    public void UnfinishedWriterLeavesNoFile()
    {
        using var dir = new TempFolder();
        var path = dir.File("t.safetensors");
        using (var writer = new SafetensorsWriter(path, [new("a", SafetensorsDType.F32, [4]), new("b", SafetensorsDType.F32, [4])]))
        {
            writer.WriteTensor("a", new byte[16]);
            var e = Assert.Throws<InvalidOperationException>(writer.Complete);
            Assert.Contains("'b' has 0 of 16 bytes", e.Message, StringComparison.Ordinal);
        }

        Assert.Empty(Directory.GetFileSystemEntries(dir.Path));
    }

    [Fact]
    public void WriterRejectsWrongSizesAndUnknownNames()
    {
        using var dir = new TempFolder();
        using var writer = new SafetensorsWriter(dir.File("t.safetensors"), [new("a", SafetensorsDType.BF16, [2, 2])]);
        var wrongSize = Assert.Throws<ArgumentException>(() => writer.WriteTensor("a", new byte[6]));
        Assert.Contains("BF16 [2, 2] (8 bytes) but 6 bytes", wrongSize.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => writer.WriteTensor("nope", new byte[8]));
        Assert.Throws<ArgumentOutOfRangeException>(() => writer.WriteTensorChunk("a", 4, new byte[5]));
    }

    [Fact]
    public void CustomMetadataAndUnicodeNamesRoundTrip()
    {
        using var dir = new TempFolder();
        var path = dir.File("t.safetensors");
        var metadata = new Dictionary<string, string> { ["format"] = "pt", ["fusechat.source"] = "naïve \"quoted\"" };
        SafetensorsTestData.Write(path, [(new TensorDeclaration("größe.weight", SafetensorsDType.F16, [2]), [1, 2, 3, 4])], metadata);
        using var file = SafetensorsFile.Open(path);
        Assert.Equal("naïve \"quoted\"", file.Metadata["fusechat.source"]);
        Assert.Equal(new byte[] { 1, 2, 3, 4 }, file.ReadBytes("größe.weight"));
    }
}
