using System.Buffers.Binary;
using System.Text;
using FuseChat.Fusion.Checkpoints;

namespace FuseChat.Fusion.Tests.Checkpoints;

internal static class SafetensorsTestData
{
    public static byte[] RandomBytes(long length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    public static void Write(string path, IEnumerable<(TensorDeclaration Declaration, byte[] Data)> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var list = tensors.ToList();
        using var writer = new SafetensorsWriter(path, list.Select(t => t.Declaration), metadata);
        foreach (var (d, data) in list)
        {
            writer.WriteTensor(d.Name, data);
        }

        writer.Complete();
    }

    /// <summary>Writes a file with a hand-written header, for malformed-file tests.</summary>
    public static void WriteRaw(string path, string headerJson, int dataLength, ulong? headerLengthOverride = null)
    {
        var header = Encoding.UTF8.GetBytes(headerJson);
        var bytes = new byte[8 + header.Length + dataLength];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, headerLengthOverride ?? (ulong)header.Length);
        header.CopyTo(bytes, 8);
        File.WriteAllBytes(path, bytes);
    }
}
