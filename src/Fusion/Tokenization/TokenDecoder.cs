using System.Globalization;
using System.Text;

namespace FuseChat.Fusion.Tokenization;

/// <summary>A tokenizer.json decoder: rewrites the list of token strings (HF decode_chain); the result is their concatenation.</summary>
internal abstract class TokenDecoder
{
    public abstract void DecodeChain(List<string> tokens);
}

/// <summary>ByteLevel: maps the printable alphabet back to bytes and decodes UTF-8 (invalid sequences become U+FFFD).</summary>
internal sealed class ByteLevelDecoder : TokenDecoder
{
    public override void DecodeChain(List<string> tokens)
    {
        var bytes = new List<byte>(tokens.Count * 4);
        foreach (var token in tokens)
        {
            var mappable = true;
            foreach (var c in token)
            {
                if (c >= ByteLevelAlphabet.CharToByte.Length || ByteLevelAlphabet.CharToByte[c] < 0)
                {
                    mappable = false;
                    break;
                }
            }

            if (mappable)
            {
                foreach (var c in token)
                {
                    bytes.Add((byte)ByteLevelAlphabet.CharToByte[c]);
                }
            }
            else
            {
                // Tokens outside the alphabet (some added tokens) pass through as their own UTF-8.
                bytes.AddRange(Encoding.UTF8.GetBytes(token));
            }
        }

        tokens.Clear();
        tokens.Add(Encoding.UTF8.GetString(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(bytes)));
    }
}

/// <summary>Replace: literal pattern to content in every token.</summary>
internal sealed class ReplaceDecoder(string pattern, string content) : TokenDecoder
{
    public override void DecodeChain(List<string> tokens)
    {
        for (var i = 0; i < tokens.Count; i++)
        {
            tokens[i] = tokens[i].Replace(pattern, content, StringComparison.Ordinal);
        }
    }
}

/// <summary>ByteFallback: runs of &lt;0xNN&gt; tokens become their UTF-8 text, or one U+FFFD per byte when invalid.</summary>
internal sealed class ByteFallbackDecoder : TokenDecoder
{
    private static readonly UTF8Encoding Strict = new(false, true);

    public override void DecodeChain(List<string> tokens)
    {
        var output = new List<string>(tokens.Count);
        var pending = new List<byte>();
        foreach (var token in tokens)
        {
            if (token.Length == 6 && token.StartsWith("<0x", StringComparison.Ordinal) && token[5] == '>'
                && byte.TryParse(token.AsSpan(3, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var b))
            {
                pending.Add(b);
                continue;
            }

            Flush(pending, output);
            output.Add(token);
        }

        Flush(pending, output);
        tokens.Clear();
        tokens.AddRange(output);
    }

    private static void Flush(List<byte> pending, List<string> output)
    {
        if (pending.Count == 0)
        {
            return;
        }

        try
        {
            output.Add(Strict.GetString(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(pending)));
        }
        catch (DecoderFallbackException)
        {
            for (var i = 0; i < pending.Count; i++)
            {
                output.Add("\uFFFD");
            }
        }

        pending.Clear();
    }
}

/// <summary>Fuse: joins all tokens into one.</summary>
internal sealed class FuseDecoder : TokenDecoder
{
    public override void DecodeChain(List<string> tokens)
    {
        var joined = string.Concat(tokens);
        tokens.Clear();
        tokens.Add(joined);
    }
}

/// <summary>Strip: removes up to <c>start</c> leading and <c>stop</c> trailing copies of a character from every token.</summary>
internal sealed class StripDecoder(char content, int start, int stop) : TokenDecoder
{
    public override void DecodeChain(List<string> tokens)
    {
        for (var i = 0; i < tokens.Count; i++)
        {
            var token = tokens[i];
            var from = 0;
            while (from < start && from < token.Length && token[from] == content)
            {
                from++;
            }

            var to = token.Length;
            while (token.Length - to < stop && to > from && token[to - 1] == content)
            {
                to--;
            }

            tokens[i] = token[from..to];
        }
    }
}

/// <summary>Metaspace: "▁" becomes a space, except in the first token when a prefix was prepended.</summary>
internal sealed class MetaspaceDecoder(char replacement, PrependScheme scheme) : TokenDecoder
{
    public override void DecodeChain(List<string> tokens)
    {
        for (var i = 0; i < tokens.Count; i++)
        {
            var dropInFirst = i == 0 && scheme != PrependScheme.Never;
            tokens[i] = dropInFirst
                ? tokens[i].Replace(replacement.ToString(), string.Empty, StringComparison.Ordinal)
                : tokens[i].Replace(replacement, ' ');
        }
    }
}

/// <summary>Applies decoders in order.</summary>
internal sealed class SequenceDecoder(IReadOnlyList<TokenDecoder> decoders) : TokenDecoder
{
    public override void DecodeChain(List<string> tokens)
    {
        foreach (var decoder in decoders)
        {
            decoder.DecodeChain(tokens);
        }
    }
}
