using System.Security.Cryptography;
using System.Text;
using Orleans.Runtime;

namespace FuseChat.Grains.Storage;

/// <summary>Names of the blob or file holding one grain's state, shared by both grain storage providers.</summary>
internal static class GrainStateNames
{
    // Blob names may be 1024 characters, but file names only 255 bytes: keep one rule for both so a
    // state folder can be copied into a container and back.
    private const int MaxLength = 200;

    /// <summary>Orleans' naming, "{grainType}-{grainId}.json", made safe for blob and file names.</summary>
    public static string For(string stateName, GrainId grainId) => Sanitize($"{stateName}-{grainId}") + ".json";

    /// <summary>
    /// Keeps [A-Za-z0-9._-] and escapes every other UTF-8 byte as "~XX", so distinct grains never share a
    /// name ('~' is itself escaped) and '/' never creates virtual folders or sub-directories.
    /// </summary>
    public static string Sanitize(string raw)
    {
        var sb = new StringBuilder(raw.Length + 8);
        foreach (var b in Encoding.UTF8.GetBytes(raw))
        {
            var c = (char)b;
            if (c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '-' or '_' or '.')
            {
                sb.Append(c);
            }
            else
            {
                sb.Append('~').Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        // A name ending in '.' is rejected by blob storage and awkward on some file systems.
        if (sb.Length > 0 && sb[^1] == '.')
        {
            sb.Length--;
            sb.Append("~2E");
        }

        if (sb.Length <= MaxLength)
        {
            return sb.ToString();
        }

        // Long keys: keep a readable head and make the name unique with a hash of the whole key.
        var hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(raw)), 0, 16);
        return sb.ToString(0, MaxLength - 33) + "~" + hash;
    }
}
