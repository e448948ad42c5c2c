using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace FuseChat.Fusion.Tokenization;

/// <summary>Parses a Hugging Face tokenizer.json into <see cref="TokenizerDefinition"/>, rejecting what it cannot reproduce exactly.</summary>
internal sealed class TokenizerJsonReader
{
    private readonly string _path;
    private bool _sawByteLevel;

    private TokenizerJsonReader(string path)
    {
        _path = path;
    }

    public static TokenizerDefinition Read(string path)
    {
        JsonDocument document;
        try
        {
            using var stream = File.OpenRead(path);
            document = JsonDocument.Parse(stream, new JsonDocumentOptions { MaxDepth = 256 });
        }
        catch (JsonException e)
        {
            throw new TokenizerLoadException(path, $"not valid JSON ({e.Message})", e);
        }

        using (document)
        {
            return new TokenizerJsonReader(path).Read(document.RootElement);
        }
    }

    private TokenizerDefinition Read(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw Fail("the top level is not a JSON object");
        }

        if (!root.TryGetProperty("model", out var modelElement) || modelElement.ValueKind != JsonValueKind.Object)
        {
            throw Fail("missing \"model\"");
        }

        var model = ReadModel(modelElement);
        var normalizer = Optional(root, "normalizer") is { } n ? ReadNormalizer(n, "normalizer") : null;
        var preTokenizer = Optional(root, "pre_tokenizer") is { } p ? ReadPreTokenizer(p, "pre_tokenizer") : null;
        var decoder = Optional(root, "decoder") is { } d ? ReadDecoder(d, "decoder") : null;
        var added = ReadAddedTokens(root);
        var prefix = new List<int>();
        var suffix = new List<int>();
        if (Optional(root, "post_processor") is { } post)
        {
            ReadPostProcessor(post, "post_processor", prefix, suffix);
        }

        return new TokenizerDefinition
        {
            Model = model,
            Normalizer = normalizer,
            PreTokenizer = preTokenizer,
            Decoder = decoder,
            AddedTokens = added,
            PrefixIds = [.. prefix],
            SuffixIds = [.. suffix],
            Kind = _sawByteLevel ? TokenizerKind.ByteLevel : TokenizerKind.SentencePiece,
        };
    }

    private BpeModel ReadModel(JsonElement model)
    {
        var type = model.TryGetProperty("type", out var t) ? t.GetString() : "BPE";
        if (type != "BPE")
        {
            throw Fail($"unsupported model type '{type}' (only BPE is supported)");
        }

        if (Optional(model, "dropout") is { } dropout && dropout.GetDouble() != 0)
        {
            throw Fail("unsupported model.dropout (BPE dropout is random; encoding would not be reproducible)");
        }

        if (!model.TryGetProperty("vocab", out var vocabElement) || vocabElement.ValueKind != JsonValueKind.Object)
        {
            throw Fail("model.vocab is missing or not an object");
        }

        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var entry in vocabElement.EnumerateObject())
        {
            if (entry.Value.ValueKind != JsonValueKind.Number || !entry.Value.TryGetInt32(out var id))
            {
                throw Fail($"model.vocab entry '{entry.Name}' has no integer id");
            }

            vocab[entry.Name] = id;
        }

        var merges = new List<(string, string)>();
        if (model.TryGetProperty("merges", out var mergesElement) && mergesElement.ValueKind == JsonValueKind.Array)
        {
            foreach (var merge in mergesElement.EnumerateArray())
            {
                if (merge.ValueKind == JsonValueKind.String)
                {
                    var text = merge.GetString()!;
                    var space = text.IndexOf(' ', StringComparison.Ordinal);
                    if (space <= 0 || space == text.Length - 1)
                    {
                        throw Fail($"model.merges entry '{text}' is not 'left right'");
                    }

                    merges.Add((text[..space], text[(space + 1)..]));
                }
                else if (merge.ValueKind == JsonValueKind.Array && merge.GetArrayLength() == 2)
                {
                    merges.Add((merge[0].GetString()!, merge[1].GetString()!));
                }
                else
                {
                    throw Fail("model.merges has an entry that is neither \"a b\" nor [\"a\", \"b\"]");
                }
            }
        }

        return new BpeModel(
            vocab,
            merges,
            OptionalString(model, "unk_token"),
            OptionalBool(model, "fuse_unk"),
            OptionalBool(model, "byte_fallback"),
            OptionalBool(model, "ignore_merges"),
            OptionalString(model, "continuing_subword_prefix"),
            OptionalString(model, "end_of_word_suffix"),
            Fail);
    }

    private TextNormalizer ReadNormalizer(JsonElement e, string where)
    {
        var type = TypeOf(e, where);
        switch (type)
        {
            case "NFC": return new UnicodeFormNormalizer(NormalizationForm.FormC);
            case "NFD": return new UnicodeFormNormalizer(NormalizationForm.FormD);
            case "NFKC": return new UnicodeFormNormalizer(NormalizationForm.FormKC);
            case "NFKD": return new UnicodeFormNormalizer(NormalizationForm.FormKD);
            case "Lowercase": return new LowercaseNormalizer();
            case "Strip": return new StripNormalizer(OptionalBool(e, "strip_left"), OptionalBool(e, "strip_right"));
            case "Prepend":
                var prepend = RequiredString(e, "prepend", where);

                return new PrependNormalizer(prepend);
            case "Replace":
                var (literal, regex) = ReadPattern(e, where);
                var content = RequiredString(e, "content", where);

                return new ReplaceNormalizer(literal, regex, content);
            case "Sequence":
                var list = new List<TextNormalizer>();
                var i = 0;
                foreach (var child in RequiredArray(e, "normalizers", where))
                {
                    list.Add(ReadNormalizer(child, $"{where}.normalizers[{i++}]"));
                }

                return new SequenceNormalizer(list);
            default:
                throw Fail($"unsupported {where} type '{type}'");
        }
    }

    private PreTokenizer ReadPreTokenizer(JsonElement e, string where)
    {
        var type = TypeOf(e, where);
        switch (type)
        {
            case "Sequence":
                var list = new List<PreTokenizer>();
                var i = 0;
                foreach (var child in RequiredArray(e, "pretokenizers", where))
                {
                    list.Add(ReadPreTokenizer(child, $"{where}.pretokenizers[{i++}]"));
                }

                return new SequencePreTokenizer(list);
            case "Split":
                var (literal, regexText) = ReadPatternText(e, where);
                var pattern = literal is not null ? SplitPattern.ForLiteral(literal) : CompileSplit(regexText!, where);
                return new SplitPreTokenizer(pattern, ReadBehavior(e, where), OptionalBool(e, "invert"));
            case "ByteLevel":
                _sawByteLevel = true;
                return new ByteLevelPreTokenizer(OptionalBool(e, "add_prefix_space"), OptionalBool(e, "use_regex", true));
            case "Metaspace":
                return new MetaspacePreTokenizer(ReadReplacement(e, where), ReadPrependScheme(e, where), OptionalBool(e, "split", true));
            case "Digits":
                return new DigitsPreTokenizer(OptionalBool(e, "individual_digits"));
            default:
                throw Fail($"unsupported {where} type '{type}'");
        }
    }

    private TokenDecoder ReadDecoder(JsonElement e, string where)
    {
        var type = TypeOf(e, where);
        switch (type)
        {
            case "Sequence":
                var list = new List<TokenDecoder>();
                var i = 0;
                foreach (var child in RequiredArray(e, "decoders", where))
                {
                    list.Add(ReadDecoder(child, $"{where}.decoders[{i++}]"));
                }

                return new SequenceDecoder(list);
            case "ByteLevel":
                _sawByteLevel = true;
                return new ByteLevelDecoder();
            case "ByteFallback":
                return new ByteFallbackDecoder();
            case "Fuse":
                return new FuseDecoder();
            case "Replace":
                var (literal, _) = ReadPatternText(e, where);
                if (literal is null)
                {
                    throw Fail($"unsupported {where}: Replace decoder with a regex pattern");
                }


                return new ReplaceDecoder(literal, RequiredString(e, "content", where));
            case "Strip":
                var content = RequiredString(e, "content", where);
                if (content.Length != 1)
                {
                    throw Fail($"unsupported {where}: Strip content must be one character");
                }

                return new StripDecoder(content[0], OptionalInt(e, "start"), OptionalInt(e, "stop"));
            case "Metaspace":
                return new MetaspaceDecoder(ReadReplacement(e, where), ReadPrependScheme(e, where));
            default:
                throw Fail($"unsupported {where} type '{type}'");
        }
    }

    private void ReadPostProcessor(JsonElement e, string where, List<int> prefix, List<int> suffix)
    {
        var type = TypeOf(e, where);
        switch (type)
        {
            case "ByteLevel":
                // Only adjusts offsets; ids are unchanged.
                return;
            case "Sequence":
                var i = 0;
                foreach (var child in RequiredArray(e, "processors", where))
                {
                    ReadPostProcessor(child, $"{where}.processors[{i++}]", prefix, suffix);
                }

                return;
            case "TemplateProcessing":
                ReadTemplate(e, where, prefix, suffix);
                return;
            case "BertProcessing":
            case "RobertaProcessing":
                prefix.Add(ReadIdPair(e, "cls", where));
                suffix.Add(ReadIdPair(e, "sep", where));
                return;
            default:
                throw Fail($"unsupported {where} type '{type}'");
        }
    }

    private int ReadIdPair(JsonElement e, string name, string where)
    {
        if (!e.TryGetProperty(name, out var pair) || pair.ValueKind != JsonValueKind.Array || pair.GetArrayLength() != 2)
        {
            throw Fail($"{where}.{name} is not [token, id]");
        }

        return pair[1].GetInt32();
    }

    private void ReadTemplate(JsonElement e, string where, List<int> prefix, List<int> suffix)
    {
        var specials = new Dictionary<string, int[]>(StringComparer.Ordinal);
        if (e.TryGetProperty("special_tokens", out var map) && map.ValueKind == JsonValueKind.Object)
        {
            foreach (var entry in map.EnumerateObject())
            {
                var ids = new List<int>();
                foreach (var id in RequiredArray(entry.Value, "ids", $"{where}.special_tokens.{entry.Name}"))
                {
                    ids.Add(id.GetInt32());
                }

                specials[entry.Name] = [.. ids];
            }
        }

        var seenSequence = false;
        foreach (var item in RequiredArray(e, "single", where))
        {
            if (item.TryGetProperty("Sequence", out _))
            {
                if (seenSequence)
                {
                    throw Fail($"unsupported {where}.single: more than one sequence");
                }

                seenSequence = true;
            }
            else if (item.TryGetProperty("SpecialToken", out var special))
            {
                var name = RequiredString(special, "id", $"{where}.single");
                if (!specials.TryGetValue(name, out var ids))
                {
                    throw Fail($"{where}.single uses special token '{name}' missing from special_tokens");
                }

                (seenSequence ? suffix : prefix).AddRange(ids);
            }
            else
            {
                throw Fail($"unsupported {where}.single item {item.GetRawText()}");
            }
        }
    }

    private List<AddedToken> ReadAddedTokens(JsonElement root)
    {
        var list = new List<AddedToken>();
        if (Optional(root, "added_tokens") is not { } added)
        {
            return list;
        }

        if (added.ValueKind != JsonValueKind.Array)
        {
            throw Fail("added_tokens is not an array");
        }

        foreach (var token in added.EnumerateArray())
        {
            if (!token.TryGetProperty("id", out var id) || !id.TryGetInt32(out var value))
            {
                throw Fail("added_tokens has an entry without an integer id");
            }

            var special = OptionalBool(token, "special");
            list.Add(new AddedToken(
                value,
                RequiredString(token, "content", "added_tokens"),
                special,
                OptionalBool(token, "normalized", !special),
                OptionalBool(token, "lstrip"),
                OptionalBool(token, "rstrip"),
                OptionalBool(token, "single_word")));
        }

        return list;
    }

    private SplitPattern CompileSplit(string regex, string where)
    {
        try
        {
            return SplitPattern.ForRegex(regex);
        }
        catch (ArgumentException ex)
        {
            throw new TokenizerLoadException(_path, $"unsupported {where} regex '{regex}' ({ex.Message})", ex);
        }
    }

    private (string? Literal, Regex? Regex) ReadPattern(JsonElement e, string where)
    {
        var (literal, regex) = ReadPatternText(e, where);
        if (literal is not null)
        {
            return (literal, null);
        }

        try
        {
            return (null, new Regex(regex!, RegexOptions.Compiled | RegexOptions.CultureInvariant));
        }
        catch (ArgumentException ex)
        {
            throw new TokenizerLoadException(_path, $"unsupported {where} regex '{regex}' ({ex.Message})", ex);
        }
    }

    private (string? Literal, string? Regex) ReadPatternText(JsonElement e, string where)
    {
        if (!e.TryGetProperty("pattern", out var pattern) || pattern.ValueKind != JsonValueKind.Object)
        {
            throw Fail($"{where}.pattern is missing");
        }

        if (pattern.TryGetProperty("String", out var s))
        {
            return (s.GetString()!, null);
        }

        if (pattern.TryGetProperty("Regex", out var r))
        {
            return (null, r.GetString()!);
        }

        throw Fail($"{where}.pattern is neither String nor Regex");
    }

    private SplitBehavior ReadBehavior(JsonElement e, string where) =>
        OptionalString(e, "behavior") switch
        {
            "Removed" => SplitBehavior.Removed,
            "Isolated" => SplitBehavior.Isolated,
            "MergedWithPrevious" => SplitBehavior.MergedWithPrevious,
            "MergedWithNext" => SplitBehavior.MergedWithNext,
            "Contiguous" => SplitBehavior.Contiguous,
            var other => throw Fail($"unsupported {where}.behavior '{other}'"),
        };

    private char ReadReplacement(JsonElement e, string where)
    {
        var replacement = OptionalString(e, "replacement") ?? "\u2581";
        if (replacement.Length != 1)
        {
            throw Fail($"unsupported {where}.replacement '{replacement}' (one character expected)");
        }

        return replacement[0];
    }

    private PrependScheme ReadPrependScheme(JsonElement e, string where)
    {
        var scheme = OptionalString(e, "prepend_scheme");
        if (scheme is null)
        {
            // Files from before prepend_scheme carry add_prefix_space.
            return OptionalBool(e, "add_prefix_space", true) ? PrependScheme.Always : PrependScheme.Never;
        }

        return scheme switch
        {
            "always" => PrependScheme.Always,
            "first" => PrependScheme.First,
            "never" => PrependScheme.Never,
            _ => throw Fail($"unsupported {where}.prepend_scheme '{scheme}'"),
        };
    }

    private string TypeOf(JsonElement e, string where)
    {
        if (e.ValueKind != JsonValueKind.Object || !e.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String)
        {
            throw Fail($"{where} has no \"type\"");
        }

        return type.GetString()!;
    }

    private static JsonElement? Optional(JsonElement e, string name) =>
        e.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? value : null;

    private static string? OptionalString(JsonElement e, string name) =>
        Optional(e, name) is { ValueKind: JsonValueKind.String } value ? value.GetString() : null;

    private static bool OptionalBool(JsonElement e, string name, bool fallback = false) =>
        Optional(e, name) is { } value && value.ValueKind is JsonValueKind.True or JsonValueKind.False ? value.GetBoolean() : fallback;

    private static int OptionalInt(JsonElement e, string name) =>
        Optional(e, name) is { ValueKind: JsonValueKind.Number } value ? value.GetInt32() : 0;

    private string RequiredString(JsonElement e, string name, string where) =>
        OptionalString(e, name) ?? throw Fail($"{where}.{name} is missing");

    private JsonElement.ArrayEnumerator RequiredArray(JsonElement e, string name, string where) =>
        e.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Array
            ? value.EnumerateArray()
            : throw Fail($"{where}.{name} is missing or not an array");

    private TokenizerLoadException Fail(string message) => new(_path, message);
}
