using System.Text.RegularExpressions;

namespace FuseChat.Grains.Storage;

/// <summary>Removes storage secrets from text that may reach a log or a caller.</summary>
internal static partial class SecretRedactor
{
    [GeneratedRegex(@"(AccountKey|SharedAccessSignature|sig)=[^;&\s""']+", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex SecretPattern();

    /// <summary>Replaces account keys and SAS signatures, and the key of <paramref name="connectionString"/> wherever it appears.</summary>
    public static string Redact(string text, string? connectionString)
    {
        if (!string.IsNullOrEmpty(connectionString))
        {
            text = text.Replace(connectionString, "[connection string]", StringComparison.Ordinal);
            foreach (var part in connectionString.Split(';', StringSplitOptions.RemoveEmptyEntries))
            {
                var eq = part.IndexOf('=', StringComparison.Ordinal);
                if (eq > 0 && part[..eq].Trim() is var key
                    && (key.Equals("AccountKey", StringComparison.OrdinalIgnoreCase) || key.Equals("SharedAccessSignature", StringComparison.OrdinalIgnoreCase))
                    && part.Length - eq - 1 >= 8)
                {
                    text = text.Replace(part[(eq + 1)..], "[redacted]", StringComparison.Ordinal);
                }
            }
        }

        return SecretPattern().Replace(text, m => m.Groups[1].Value + "=[redacted]");
    }
}
