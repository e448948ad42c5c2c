using System.Globalization;

namespace FuseChat.Fusion.Checkpoints;

/// <summary>Formats shapes the same way in every message of this namespace.</summary>
internal static class ShapeText
{
    public static string Format(ReadOnlySpan<long> shape)
    {
        var parts = new string[shape.Length];
        for (var i = 0; i < shape.Length; i++)
        {
            parts[i] = shape[i].ToString(CultureInfo.InvariantCulture);
        }

        return "[" + string.Join(", ", parts) + "]";
    }
}
