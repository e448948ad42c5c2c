using System.Runtime.InteropServices;
using System.Text;

namespace FuseChat.Fusion.Tokenization;

/// <summary>
/// A Hugging Face BPE tokenizer loaded from tokenizer.json (+ tokenizer_config.json) that produces
/// the same ids as Hugging Face's tokenizers library: byte-level BPE (GPT-2, Llama-3, Qwen2/3) and
/// SentencePiece-style BPE with byte fallback (Llama-2, Mistral, Gemma).
/// </summary>
/// <remarks>
/// Encoding and decoding are thread-safe. <see cref="AddSpecialToken"/> is not: add tokens before
/// sharing the instance between threads.
/// </remarks>
public sealed class HfTokenizer
{
    // Tokenizer classes whose transformers "fast" implementation rebuilds the post-processor from
    // add_bos_token / add_eos_token, so tokenizer_config.json overrides tokenizer.json there.
    private static readonly HashSet<string> BosEosConfigClasses = new(StringComparer.Ordinal)
    {
        "LlamaTokenizer", "LlamaTokenizerFast", "CodeLlamaTokenizer", "CodeLlamaTokenizerFast",
        "GemmaTokenizer", "GemmaTokenizerFast",
    };

    [ThreadStatic]
    private static EncodeScratch? t_scratch;

    private readonly BpeModel _model;
    private readonly TextNormalizer? _normalizer;
    private readonly PreTokenizer? _preTokenizer;
    private readonly TokenDecoder? _decoder;
    private readonly List<AddedToken> _addedTokens;
    private readonly Dictionary<string, AddedToken> _addedByContent = new(StringComparer.Ordinal);
    private readonly Dictionary<int, AddedToken> _addedById = [];
    private readonly HashSet<int> _specialIds = [];
    private readonly int[] _prefixIds;
    private readonly int[] _suffixIds;
    private AddedTokenSplitter _rawSplitter = null!;
    private AddedTokenSplitter _normalizedSplitter = null!;
    private int _count;

    private HfTokenizer(TokenizerDefinition definition, TokenizerConfig config)
    {
        _model = definition.Model;
        _normalizer = definition.Normalizer;
        _preTokenizer = definition.PreTokenizer;
        _decoder = definition.Decoder;
        Kind = definition.Kind;
        _addedTokens = [.. definition.AddedTokens];
        foreach (var token in _addedTokens)
        {
            _addedByContent.TryAdd(token.Content, token);
            _addedById[token.Id] = token;
            if (token.Special)
            {
                _specialIds.Add(token.Id);
            }
        }

        ChatTemplate = config.ChatTemplate;
        BosToken = config.BosToken;
        EosToken = config.EosToken;
        PadToken = config.PadToken;
        UnkToken = config.UnkToken;
        BosId = BosToken is null ? null : TokenToId(BosToken);
        EosId = EosToken is null ? null : TokenToId(EosToken);
        PadId = PadToken is null ? null : TokenToId(PadToken);
        UnkId = UnkToken is null ? null : TokenToId(UnkToken);

        _prefixIds = definition.PrefixIds;
        _suffixIds = definition.SuffixIds;
        if (config.TokenizerClass is { } cls && BosEosConfigClasses.Contains(cls))
        {
            var addBos = config.AddBosToken ?? true;
            var addEos = config.AddEosToken ?? false;
            _prefixIds = addBos && BosId is { } bos ? [bos] : [];
            _suffixIds = addEos && EosId is { } eos ? [eos] : [];
        }

        RebuildAddedVocabulary();
    }

    /// <summary>Byte-level or SentencePiece-style BPE.</summary>
    public TokenizerKind Kind { get; }

    /// <summary>The character that marks a word start in token strings: "Ġ" (byte-level) or "▁" (SentencePiece).</summary>
    public string WordBoundaryMarker => Kind == TokenizerKind.ByteLevel ? "\u0120" : "\u2581";

    /// <summary>Vocabulary size including added tokens (Hugging Face's get_vocab_size(with_added_tokens: true)).</summary>
    public int Count => _count;

    /// <summary>Id of tokenizer_config.json's bos_token, if any.</summary>
    public int? BosId { get; }

    /// <summary>Id of tokenizer_config.json's eos_token, if any.</summary>
    public int? EosId { get; }

    /// <summary>Id of tokenizer_config.json's pad_token, if any.</summary>
    public int? PadId { get; }

    /// <summary>Id of tokenizer_config.json's unk_token, if any.</summary>
    public int? UnkId { get; }

    /// <summary>tokenizer_config.json's bos_token.</summary>
    public string? BosToken { get; }

    /// <summary>tokenizer_config.json's eos_token.</summary>
    public string? EosToken { get; }

    /// <summary>tokenizer_config.json's pad_token.</summary>
    public string? PadToken { get; }

    /// <summary>tokenizer_config.json's unk_token.</summary>
    public string? UnkToken { get; }

    /// <summary>tokenizer_config.json's chat_template (Jinja source), kept for the chat-template stage.</summary>
    public string? ChatTemplate { get; }

    /// <summary>Ids put before the text when special tokens are added (e.g. BOS).</summary>
    public IReadOnlyList<int> PrefixSpecialIds => _prefixIds;

    /// <summary>Ids put after the text when special tokens are added (e.g. EOS when add_eos_token is set).</summary>
    public IReadOnlyList<int> SuffixSpecialIds => _suffixIds;

    /// <summary>
    /// Loads a tokenizer. <paramref name="tokenizerJsonPath"/> may be a tokenizer.json file or a model
    /// folder; without <paramref name="tokenizerConfigPath"/> a tokenizer_config.json beside it is used when present.
    /// </summary>
    /// <param name="tokenizerJsonPath">tokenizer.json, or a folder holding it.</param>
    /// <param name="tokenizerConfigPath">tokenizer_config.json, or null to look beside tokenizer.json.</param>
    /// <exception cref="TokenizerLoadException">The file is malformed or uses an unsupported component.</exception>
    public static HfTokenizer Load(string tokenizerJsonPath, string? tokenizerConfigPath = null)
    {
        ArgumentNullException.ThrowIfNull(tokenizerJsonPath);
        var jsonPath = Directory.Exists(tokenizerJsonPath) ? Path.Combine(tokenizerJsonPath, "tokenizer.json") : tokenizerJsonPath;
        if (!File.Exists(jsonPath))
        {
            throw new TokenizerLoadException(jsonPath, "file not found");
        }

        if (tokenizerConfigPath is null)
        {
            var sibling = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(jsonPath))!, "tokenizer_config.json");
            tokenizerConfigPath = File.Exists(sibling) ? sibling : null;
        }
        else if (!File.Exists(tokenizerConfigPath))
        {
            throw new TokenizerLoadException(tokenizerConfigPath, "file not found");
        }

        var definition = TokenizerJsonReader.Read(jsonPath);
        var config = tokenizerConfigPath is null ? TokenizerConfig.Empty : TokenizerConfig.Read(tokenizerConfigPath);
        return new HfTokenizer(definition, config);
    }

    /// <summary>Encodes text to ids; with <paramref name="addSpecialTokens"/> the post-processor's tokens (e.g. BOS) are added.</summary>
    /// <param name="text">The text.</param>
    /// <param name="addSpecialTokens">Whether to add BOS/EOS per the post-processor.</param>
    public int[] Encode(string text, bool addSpecialTokens)
    {
        var scratch = t_scratch ??= new EncodeScratch();
        scratch.Output.Clear();
        Encode(text, addSpecialTokens, scratch.Output);
        return [.. scratch.Output];
    }

    /// <summary>Encodes text, appending the ids to <paramref name="output"/> (no allocation per call once warm).</summary>
    /// <param name="text">The text.</param>
    /// <param name="addSpecialTokens">Whether to add BOS/EOS per the post-processor.</param>
    /// <param name="output">Receives the ids.</param>
    public void Encode(string text, bool addSpecialTokens, List<int> output)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(output);
        var scratch = t_scratch ??= new EncodeScratch();
        if (addSpecialTokens)
        {
            output.AddRange(_prefixIds);
        }

        // Tokens that are not normalized are found in the raw text, before anything else.
        var matches = scratch.RawMatches;
        matches.Clear();
        _rawSplitter.FindMatches(text, matches);
        var position = 0;
        foreach (var (start, end, token) in matches)
        {
            if (start > position)
            {
                EncodeSegment(text, position, start, scratch, output);
            }

            output.Add(token.Id);
            position = end;
        }

        if (position < text.Length)
        {
            EncodeSegment(text, position, text.Length, scratch, output);
        }

        if (addSpecialTokens)
        {
            output.AddRange(_suffixIds);
        }
    }

    /// <summary>
    /// Encodes text as <see cref="Encode(string, bool, List{int})"/> does (the same ids) and also gives
    /// each token's character range [Start, End) in <paramref name="text"/>, as Hugging Face's offset
    /// mapping does, except that ranges count UTF-16 code units (C# string indices) where HF counts
    /// Unicode scalar values. Added tokens get their exact match (widened by lstrip/rstrip); tokens
    /// that split one char's UTF-8 bytes each get that whole char; a char the tokenizer inserts
    /// (a prepended "▁" or prefix space) belongs to the char after it; special tokens added by the
    /// post-processor get (0, 0). Slower than the ids-only path.
    /// </summary>
    /// <param name="text">The text.</param>
    /// <param name="addSpecialTokens">Whether to add BOS/EOS per the post-processor.</param>
    /// <param name="ids">Receives the ids.</param>
    /// <param name="offsets">Receives one range per id.</param>
    public void Encode(string text, bool addSpecialTokens, List<int> ids, List<(int Start, int End)> offsets)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(ids);
        ArgumentNullException.ThrowIfNull(offsets);
        var firstId = ids.Count;
        var firstOffset = offsets.Count;
        if (addSpecialTokens)
        {
            foreach (var id in _prefixIds)
            {
                ids.Add(id);
                offsets.Add((0, 0));
            }
        }

        var matches = new List<(int Start, int End, AddedToken Token)>();
        _rawSplitter.FindMatches(text, matches);
        var position = 0;
        foreach (var (start, end, token) in matches)
        {
            if (start > position)
            {
                EncodeSegmentWithOffsets(text, position, start, ids, offsets);
            }

            ids.Add(token.Id);
            offsets.Add((start, end));
            position = end;
        }

        if (position < text.Length)
        {
            EncodeSegmentWithOffsets(text, position, text.Length, ids, offsets);
        }

        if (addSpecialTokens)
        {
            foreach (var id in _suffixIds)
            {
                ids.Add(id);
                offsets.Add((0, 0));
            }
        }

        if (ids.Count - firstId != offsets.Count - firstOffset)
        {
            throw new InvalidOperationException("internal error: ids and offsets differ in number");
        }
    }

    /// <summary>Decodes ids to text as Hugging Face's decode does; unknown ids are skipped.</summary>
    /// <param name="ids">Token ids.</param>
    /// <param name="skipSpecialTokens">Whether to leave out special added tokens.</param>
    public string Decode(ReadOnlySpan<int> ids, bool skipSpecialTokens)
    {
        var tokens = new List<string>(ids.Length);
        foreach (var id in ids)
        {
            var token = IdToToken(id);
            if (token is null || (skipSpecialTokens && _specialIds.Contains(id)))
            {
                continue;
            }

            tokens.Add(token);
        }

        if (_decoder is null)
        {
            return string.Join(' ', tokens);
        }

        _decoder.DecodeChain(tokens);
        return string.Concat(tokens);
    }

    /// <summary>The token string of an id (added tokens first, then the model vocabulary), or null.</summary>
    /// <param name="id">Token id.</param>
    public string? IdToToken(int id)
    {
        if (_addedById.TryGetValue(id, out var added))
        {
            return added.Content;
        }

        return (uint)id < (uint)_model.IdToToken.Length ? _model.IdToToken[id] : null;
    }

    /// <summary>The id of a token string (added tokens first, then the model vocabulary), or null.</summary>
    /// <param name="token">Token string as stored in the vocabulary (e.g. "Ġthe", "▁the").</param>
    public int? TokenToId(string token)
    {
        ArgumentNullException.ThrowIfNull(token);
        if (_addedByContent.TryGetValue(token, out var added))
        {
            return added.Id;
        }

        return _model.TryGetId(token, out var id) ? id : null;
    }

    /// <summary>Whether the id is a special added token (skipped by <see cref="Decode"/> when asked).</summary>
    /// <param name="id">Token id.</param>
    public bool IsSpecial(int id) => _specialIds.Contains(id);

    /// <summary>
    /// Adds a special token matched verbatim in text (as Hugging Face's add_special_tokens): an
    /// existing token keeps its id, a new one gets the next free id (e.g. 32000 for OpenChat's
    /// "&lt;|end_of_turn|&gt;" on a 32k Mistral vocabulary). Not thread-safe.
    /// </summary>
    /// <param name="content">The token text.</param>
    /// <returns>The token's id.</returns>
    public int AddSpecialToken(string content)
    {
        ArgumentException.ThrowIfNullOrEmpty(content);
        if (_addedByContent.TryGetValue(content, out var existing))
        {
            if (!existing.Special)
            {
                var promoted = existing with { Special = true, Normalized = false };
                _addedTokens[_addedTokens.IndexOf(existing)] = promoted;
                _addedByContent[content] = promoted;
                _addedById[promoted.Id] = promoted;
                _specialIds.Add(promoted.Id);
                RebuildAddedVocabulary();
            }

            return existing.Id;
        }

        int id;
        if (_model.TryGetId(content, out var modelId))
        {
            id = modelId;
        }
        else
        {
            // HF: the model size, or one past the largest added id when that is already beyond it.
            id = _model.IdToToken.Length;
            foreach (var token in _addedTokens)
            {
                id = Math.Max(id, token.Id + 1);
            }
        }

        var added = new AddedToken(id, content, Special: true, Normalized: false, LeftStrip: false, RightStrip: false, SingleWord: false);
        _addedTokens.Add(added);
        _addedByContent[content] = added;
        _addedById[id] = added;
        _specialIds.Add(id);
        RebuildAddedVocabulary();
        return id;
    }

    private void RebuildAddedVocabulary()
    {
        _rawSplitter = new AddedTokenSplitter(_addedTokens.Where(t => !t.Normalized).Select(t => (t.Content, t)));
        _normalizedSplitter = new AddedTokenSplitter(
            _addedTokens.Where(t => t.Normalized).Select(t => (_normalizer?.Normalize(t.Content) ?? t.Content, t)));
        var count = _model.VocabCount;
        foreach (var token in _addedByContent.Values)
        {
            if (!_model.TryGetId(token.Content, out _))
            {
                count++;
            }
        }

        _count = count;
    }

    private void EncodeSegment(string text, int start, int end, EncodeScratch scratch, List<int> output)
    {
        var atTextStart = start == 0;
        if (_normalizer is null && _normalizedSplitter.IsEmpty)
        {
            EncodeNormalized(text.AsSpan(start, end - start), atTextStart, scratch, output);
            return;
        }

        var segment = start == 0 && end == text.Length ? text : text[start..end];
        var normalized = _normalizer?.Normalize(segment) ?? segment;
        if (_normalizedSplitter.IsEmpty)
        {
            EncodeNormalized(normalized, atTextStart, scratch, output);
            return;
        }

        // Normalized added tokens are looked for in the normalized text.
        var matches = scratch.NormalizedMatches;
        matches.Clear();
        _normalizedSplitter.FindMatches(normalized, matches);
        var position = 0;
        foreach (var (s, e, token) in matches)
        {
            if (s > position)
            {
                EncodeNormalized(normalized.AsSpan(position, s - position), atTextStart && position == 0, scratch, output);
            }

            output.Add(token.Id);
            position = e;
        }

        if (position < normalized.Length)
        {
            EncodeNormalized(normalized.AsSpan(position), atTextStart && position == 0, scratch, output);
        }
    }

    // The offsets path: same steps as EncodeSegment / EncodeNormalized, carrying char ranges along.
    private void EncodeSegmentWithOffsets(string text, int start, int end, List<int> ids, List<(int Start, int End)> offsets)
    {
        var segment = text[start..end];
        string normalized;
        (int Start, int End)[] alignment;
        if (_normalizer is null)
        {
            normalized = segment;
            alignment = new (int Start, int End)[segment.Length];
            for (var i = 0; i < segment.Length; i++)
            {
                alignment[i] = (i, i + 1);
            }
        }
        else
        {
            normalized = _normalizer.Normalize(segment, out alignment);
        }

        // Ranges of the normalized text -> ranges of the original text.
        (int Start, int End) ToOriginal(int from, int to)
        {
            if (to <= from)
            {
                var at = from < alignment.Length ? alignment[from].Start : segment.Length;
                return (start + at, start + at);
            }

            int s = int.MaxValue, e = int.MinValue;
            for (var k = from; k < to; k++)
            {
                s = Math.Min(s, alignment[k].Start);
                e = Math.Max(e, alignment[k].End);
            }

            return (start + s, start + e);
        }

        var matches = new List<(int Start, int End, AddedToken Token)>();
        _normalizedSplitter.FindMatches(normalized, matches);
        var position = 0;
        foreach (var (s, e, token) in matches)
        {
            if (s > position)
            {
                EncodeNormalizedWithOffsets(normalized, position, s, start == 0 && position == 0, ToOriginal, ids, offsets);
            }

            ids.Add(token.Id);
            offsets.Add(ToOriginal(s, e));
            position = e;
        }

        if (position < normalized.Length)
        {
            EncodeNormalizedWithOffsets(normalized, position, normalized.Length, start == 0 && position == 0, ToOriginal, ids, offsets);
        }
    }

    private void EncodeNormalizedWithOffsets(
        string normalized, int from, int to, bool atTextStart, Func<int, int, (int Start, int End)> toOriginal, List<int> ids, List<(int Start, int End)> offsets)
    {
        var text = normalized.AsSpan(from, to - from);
        var wordIds = new List<int>();
        var spans = new List<(int Start, int End)>();
        if (_preTokenizer is null)
        {
            _model.Tokenize(text, wordIds);
            _model.AppendTokenSpans(text, CollectionsMarshal.AsSpan(wordIds), spans);
            ids.AddRange(wordIds);
            foreach (var (s, e) in spans)
            {
                offsets.Add(toOriginal(from + s, from + e));
            }

            return;
        }

        var buffer = new PieceBuffer();
        buffer.Reset(text, atTextStart, trackOrigins: true);
        _preTokenizer.Apply(buffer);
        var byteChars = new List<(int Start, int End)>();
        Span<byte> utf8 = stackalloc byte[4];
        foreach (var piece in buffer.Pieces)
        {
            ReadOnlySpan<char> word = buffer[piece];
            string? mapped = null;
            if (buffer.ByteLevel)
            {
                // Each byte of the piece, as a GPT-2 alphabet char, remembers the piece chars it came from.
                byteChars.Clear();
                var builder = new StringBuilder(word.Length * 2);
                for (var i = 0; i < word.Length;)
                {
                    var width = char.IsHighSurrogate(word[i]) && i + 1 < word.Length && char.IsLowSurrogate(word[i + 1]) ? 2 : 1;
                    var count = Encoding.UTF8.GetBytes(word.Slice(i, width), utf8);
                    for (var b = 0; b < count; b++)
                    {
                        builder.Append(ByteLevelAlphabet.ByteToChar[utf8[b]]);
                        byteChars.Add((i, i + width));
                    }

                    i += width;
                }

                mapped = builder.ToString();
            }

            wordIds.Clear();
            spans.Clear();
            var modelWord = mapped is null ? word : mapped.AsSpan();
            _model.Tokenize(modelWord, wordIds);
            _model.AppendTokenSpans(modelWord, CollectionsMarshal.AsSpan(wordIds), spans);
            ids.AddRange(wordIds);
            foreach (var (s, e) in spans)
            {
                var (cs, ce) = mapped is null ? (s, e) : (byteChars[s].Start, byteChars[e - 1].End);
                int first = int.MaxValue, last = int.MinValue;
                for (var c = cs; c < ce; c++)
                {
                    var origin = buffer.Origins[piece.Start + c];
                    first = Math.Min(first, origin);
                    last = Math.Max(last, origin);
                }

                offsets.Add(toOriginal(from + first, from + last + 1));
            }
        }
    }

    private void EncodeNormalized(ReadOnlySpan<char> text, bool atTextStart, EncodeScratch scratch, List<int> output)
    {
        if (text.IsEmpty)
        {
            return;
        }

        if (_preTokenizer is null)
        {
            _model.Tokenize(text, output);
            return;
        }

        var buffer = scratch.Pieces;
        buffer.Reset(text, atTextStart);
        _preTokenizer.Apply(buffer);
        foreach (var piece in buffer.Pieces)
        {
            var word = buffer[piece];
            if (buffer.ByteLevel)
            {
                word = scratch.MapBytes(word);
            }

            _model.Tokenize(word, output);
        }
    }

    private sealed class EncodeScratch
    {
        private byte[] _bytes = new byte[1024];
        private char[] _mapped = new char[1024];

        public List<int> Output { get; } = new(1024);

        public List<(int Start, int End, AddedToken Token)> RawMatches { get; } = [];

        public List<(int Start, int End, AddedToken Token)> NormalizedMatches { get; } = [];

        public PieceBuffer Pieces { get; } = new();

        // UTF-8 bytes of the piece, each shown as its GPT-2 alphabet character.
        public ReadOnlySpan<char> MapBytes(ReadOnlySpan<char> piece)
        {
            var maxBytes = piece.Length * 3;
            if (_bytes.Length < maxBytes)
            {
                _bytes = new byte[Math.Max(maxBytes, _bytes.Length * 2)];
                _mapped = new char[_bytes.Length];
            }

            var count = Encoding.UTF8.GetBytes(piece, _bytes);
            var table = ByteLevelAlphabet.ByteToChar;
            for (var i = 0; i < count; i++)
            {
                _mapped[i] = table[_bytes[i]];
            }

            return _mapped.AsSpan(0, count);
        }
    }
}
