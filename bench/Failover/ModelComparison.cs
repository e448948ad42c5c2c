using FuseChat.Fusion.Checkpoints;

namespace FuseChat.Bench.Failover;

/// <summary>Compares the weights of two Hugging Face folders tensor by tensor, byte for byte.</summary>
public static class ModelComparison
{
    /// <summary>Null when every tensor has the same name, dtype, shape and bytes; else the first difference.</summary>
    public static string? FirstDifference(string expectedFolder, string actualFolder)
    {
        using var expected = CheckpointReader.Open(expectedFolder);
        using var actual = CheckpointReader.Open(actualFolder);
        var names = expected.TensorNames.Order(StringComparer.Ordinal).ToList();
        var others = actual.TensorNames.Order(StringComparer.Ordinal).ToList();
        if (!names.SequenceEqual(others)) return $"tensor names differ ({names.Count} vs {others.Count})";
        foreach (var name in names)
        {
            var a = expected.GetTensor(name);
            var b = actual.GetTensor(name);
            if (a.DType != b.DType || !a.Shape.SequenceEqual(b.Shape)) return $"{name}: dtype or shape differ";
            if (!expected.GetShard(name).GetSpan(a).SequenceEqual(actual.GetShard(name).GetSpan(b))) return $"{name}: values differ";
        }

        return null;
    }
}
