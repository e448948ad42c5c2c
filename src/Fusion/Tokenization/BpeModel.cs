using System.Collections.Concurrent;
using System.Text;

namespace FuseChat.Fusion.Tokenization;

/// <summary>
/// The BPE model of tokenizer.json: vocabulary, ranked merges, byte fallback, unknown token and a
/// word cache. Merging follows Hugging Face's Word::merge_all: always the lowest-ranked adjacent
/// pair, leftmost on ties.
/// </summary>
internal sealed class BpeModel
{
    // Long words (no pre-tokenizer: whole Llama-2 / Gemma segments) rarely repeat; caching them only costs memory.
    private const int MaxCachedWordLength = 256;
    private const int MaxCacheEntries = 100_000;

    // Below this many symbols a linear scan for the best pair beats a heap.
    private const int LinearMergeLimit = 48;

    private readonly Dictionary<string, int> _vocab;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _vocabBySpan;
    private readonly int[] _singleCharIds = new int[65536];
    private readonly int[] _byteFallbackIds = new int[256];
    private readonly MergeTable _merges;
    private readonly ConcurrentDictionary<string, int[]> _cache = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int[]>.AlternateLookup<ReadOnlySpan<char>> _cacheBySpan;
    private readonly int _unkId;
    private readonly bool _fuseUnk;
    private readonly bool _byteFallback;
    private readonly bool _ignoreMerges;
    private readonly string? _continuingSubwordPrefix;
    private readonly string? _endOfWordSuffix;

    [ThreadStatic]
    private static BpeScratch? t_scratch;

    public BpeModel(
        Dictionary<string, int> vocab,
        IReadOnlyList<(string Left, string Right)> merges,
        string? unkToken,
        bool fuseUnk,
        bool byteFallback,
        bool ignoreMerges,
        string? continuingSubwordPrefix,
        string? endOfWordSuffix,
        Func<string, Exception> error)
    {
        _vocab = vocab;
        _vocabBySpan = vocab.GetAlternateLookup<ReadOnlySpan<char>>();
        _cacheBySpan = _cache.GetAlternateLookup<ReadOnlySpan<char>>();
        _fuseUnk = fuseUnk;
        _byteFallback = byteFallback;
        _ignoreMerges = ignoreMerges;
        _continuingSubwordPrefix = string.IsNullOrEmpty(continuingSubwordPrefix) ? null : continuingSubwordPrefix;
        _endOfWordSuffix = string.IsNullOrEmpty(endOfWordSuffix) ? null : endOfWordSuffix;

        var maxId = -1;
        foreach (var id in vocab.Values)
        {
            maxId = Math.Max(maxId, id);
        }

        IdToToken = new string?[maxId + 1];
        foreach (var (token, id) in vocab)
        {
            if (id < 0)
            {
                throw error($"model.vocab has a negative id for '{token}'");
            }

            IdToToken[id] = token;
        }

        Array.Fill(_singleCharIds, -1);
        foreach (var (token, id) in vocab)
        {
            if (token.Length == 1)
            {
                _singleCharIds[token[0]] = id;
            }
        }

        for (var b = 0; b < 256; b++)
        {
            _byteFallbackIds[b] = vocab.TryGetValue($"<0x{b:X2}>", out var id) ? id : -1;
        }

        _unkId = -1;
        if (unkToken is not null)
        {
            if (!vocab.TryGetValue(unkToken, out _unkId))
            {
                throw error($"model.unk_token '{unkToken}' is not in model.vocab");
            }
        }

        var prefixLength = _continuingSubwordPrefix?.Length ?? 0;
        _merges = new MergeTable(merges.Count);
        for (var rank = 0; rank < merges.Count; rank++)
        {
            var (left, right) = merges[rank];
            if (!vocab.TryGetValue(left, out var leftId) || !vocab.TryGetValue(right, out var rightId))
            {
                throw error($"model.merges[{rank}] '{left} {right}' uses a token missing from model.vocab");
            }

            var merged = string.Concat(left, right.AsSpan(Math.Min(prefixLength, right.Length)));
            if (!vocab.TryGetValue(merged, out var mergedId))
            {
                throw error($"model.merges[{rank}] produces '{merged}', which is missing from model.vocab");
            }

            _merges.Add(leftId, rightId, rank, mergedId);
        }
    }

    /// <summary>Token strings by id (null where the vocabulary has a hole).</summary>
    public string?[] IdToToken { get; }

    /// <summary>Number of entries of model.vocab.</summary>
    public int VocabCount => _vocab.Count;

    public bool TryGetId(string token, out int id) => _vocab.TryGetValue(token, out id);

    /// <summary>Appends the ids of one pre-tokenized word.</summary>
    public void Tokenize(ReadOnlySpan<char> word, List<int> output)
    {
        if (word.IsEmpty)
        {
            return;
        }

        if (_ignoreMerges && _vocabBySpan.TryGetValue(word, out var whole))
        {
            output.Add(whole);
            return;
        }

        var cacheable = word.Length <= MaxCachedWordLength;
        if (cacheable && _cacheBySpan.TryGetValue(word, out var cached))
        {
            if (cached.Length == 1)
            {
                output.Add(cached[0]);
            }
            else
            {
                output.AddRange(cached);
            }

            return;
        }

        var scratch = t_scratch ??= new BpeScratch();
        var count = InitialSymbols(word, scratch);
        count = count <= LinearMergeLimit ? MergeLinear(scratch, count) : MergeWithHeap(scratch, count);

        var ids = scratch.Ids.AsSpan(0, count);
        if (cacheable && _cache.Count < MaxCacheEntries)
        {
            _cacheBySpan.TryAdd(word, ids.ToArray());
        }

        foreach (var id in ids)
        {
            output.Add(id);
        }
    }

    /// <summary>
    /// Appends, for the ids that <see cref="Tokenize"/> produced for <paramref name="word"/>, each
    /// token's range [Start, End) of word chars. Byte-fallback tokens each get the range of the
    /// char whose UTF-8 bytes they hold; an unknown token covers the chars it replaced.
    /// </summary>
    public void AppendTokenSpans(ReadOnlySpan<char> word, ReadOnlySpan<int> ids, List<(int Start, int End)> spans)
    {
        var position = 0;
        var bytesUsed = 0;
        Span<byte> utf8 = stackalloc byte[4];
        foreach (var id in ids)
        {
            if (position >= word.Length)
            {
                throw new InvalidOperationException($"token {id} lies past the end of its word");
            }

            var width = CharWidth(word, position);
            if (IsByteFallback(id))
            {
                if (Rune.DecodeFromUtf16(word.Slice(position, width), out var rune, out _) != System.Buffers.OperationStatus.Done)
                {
                    rune = Rune.ReplacementChar;
                }

                spans.Add((position, position + width));
                if (++bytesUsed == rune.EncodeToUtf8(utf8))
                {
                    position += width;
                    bytesUsed = 0;
                }

                continue;
            }

            var token = (uint)id < (uint)IdToToken.Length ? IdToToken[id] : null;
            ReadOnlySpan<char> core = token;
            if (position > 0 && _continuingSubwordPrefix is not null && core.StartsWith(_continuingSubwordPrefix, StringComparison.Ordinal))
            {
                core = core[_continuingSubwordPrefix.Length..];
            }

            if (_endOfWordSuffix is not null && core.EndsWith(_endOfWordSuffix, StringComparison.Ordinal)
                && !word[position..].StartsWith(core, StringComparison.Ordinal))
            {
                core = core[..^_endOfWordSuffix.Length];
            }

            if (token is not null && core.Length > 0 && word[position..].StartsWith(core, StringComparison.Ordinal))
            {
                spans.Add((position, position + core.Length));
                position += core.Length;
                continue;
            }

            if (id == _unkId)
            {
                // Mirrors InitialSymbols: one unknown char, or with fuse_unk the whole run of them.
                var end = position + width;
                while (_fuseUnk && end < word.Length && IsUnknownChar(word, end))
                {
                    end += CharWidth(word, end);
                }

                spans.Add((position, end));
                position = end;
                continue;
            }

            throw new InvalidOperationException($"token {id} ('{token}') does not match its word at char {position}");
        }
    }

    private static int CharWidth(ReadOnlySpan<char> word, int i) =>
        char.IsHighSurrogate(word[i]) && i + 1 < word.Length && char.IsLowSurrogate(word[i + 1]) ? 2 : 1;

    private bool IsByteFallback(int id)
    {
        if (!_byteFallback)
        {
            return false;
        }

        foreach (var b in _byteFallbackIds)
        {
            if (b == id)
            {
                return true;
            }
        }

        return false;
    }

    private bool IsUnknownChar(ReadOnlySpan<char> word, int i)
    {
        var width = CharWidth(word, i);
        if (LookupSymbol(word.Slice(i, width), i == 0, i + width == word.Length) >= 0)
        {
            return false;
        }

        if (!_byteFallback)
        {
            return true;
        }

        Span<byte> utf8 = stackalloc byte[4];
        if (Rune.DecodeFromUtf16(word.Slice(i, width), out var rune, out _) != System.Buffers.OperationStatus.Done)
        {
            rune = Rune.ReplacementChar;
        }

        var length = rune.EncodeToUtf8(utf8);
        for (var b = 0; b < length; b++)
        {
            if (_byteFallbackIds[utf8[b]] < 0)
            {
                return true;
            }
        }

        return false;
    }

    // HF BPE::merge_word: one symbol per character, byte fallback, then (fused) unknown tokens.
    private int InitialSymbols(ReadOnlySpan<char> word, BpeScratch scratch)
    {
        scratch.Ensure(word.Length * 4 + 4);
        var ids = scratch.Ids;
        var count = 0;
        var pendingUnk = false;
        Span<byte> utf8 = stackalloc byte[4];
        for (var i = 0; i < word.Length;)
        {
            var width = char.IsHighSurrogate(word[i]) && i + 1 < word.Length && char.IsLowSurrogate(word[i + 1]) ? 2 : 1;
            var ch = word.Slice(i, width);
            var isFirst = i == 0;
            i += width;
            var isLast = i == word.Length;

            var id = LookupSymbol(ch, isFirst, isLast);
            if (id >= 0)
            {
                if (pendingUnk)
                {
                    ids[count++] = _unkId;
                    pendingUnk = false;
                }

                ids[count++] = id;
                continue;
            }

            if (_byteFallback && TryByteFallback(ch, utf8, ids, ref count))
            {
                // HF leaves a pending unknown token pending across byte-fallback symbols.
                continue;
            }

            if (_unkId >= 0)
            {
                if (pendingUnk && !_fuseUnk)
                {
                    ids[count++] = _unkId;
                }

                pendingUnk = true;
            }
        }

        if (pendingUnk)
        {
            ids[count++] = _unkId;
        }

        return count;
    }

    private int LookupSymbol(ReadOnlySpan<char> ch, bool isFirst, bool isLast)
    {
        var plain = (isFirst || _continuingSubwordPrefix is null) && (!isLast || _endOfWordSuffix is null);
        if (plain)
        {
            if (ch.Length == 1)
            {
                return _singleCharIds[ch[0]];
            }

            return _vocabBySpan.TryGetValue(ch, out var id) ? id : -1;
        }

        var text = string.Concat(isFirst ? string.Empty : _continuingSubwordPrefix, ch.ToString(), isLast ? _endOfWordSuffix : string.Empty);
        return _vocab.TryGetValue(text, out var decorated) ? decorated : -1;
    }

    private bool TryByteFallback(ReadOnlySpan<char> ch, Span<byte> utf8, int[] ids, ref int count)
    {
        var status = Rune.DecodeFromUtf16(ch, out var rune, out _);
        if (status != System.Buffers.OperationStatus.Done)
        {
            rune = Rune.ReplacementChar;
        }

        var length = rune.EncodeToUtf8(utf8);
        for (var b = 0; b < length; b++)
        {
            if (_byteFallbackIds[utf8[b]] < 0)
            {
                return false;
            }
        }

        for (var b = 0; b < length; b++)
        {
            ids[count++] = _byteFallbackIds[utf8[b]];
        }

        return true;
    }

    private int MergeLinear(BpeScratch scratch, int count)
    {
        var ids = scratch.Ids;
        var ranks = scratch.Ranks;
        var merged = scratch.Merged;
        for (var i = 0; i < count - 1; i++)
        {
            _merges.TryGet(ids[i], ids[i + 1], out ranks[i], out merged[i]);
        }

        while (count > 1)
        {
            var best = -1;
            var bestRank = int.MaxValue;
            for (var i = 0; i < count - 1; i++)
            {
                if (ranks[i] < bestRank)
                {
                    bestRank = ranks[i];
                    best = i;
                }
            }

            if (best < 0)
            {
                break;
            }

            ids[best] = merged[best];
            var tail = count - best - 2;
            if (tail > 0)
            {
                Array.Copy(ids, best + 2, ids, best + 1, tail);
                Array.Copy(ranks, best + 2, ranks, best + 1, tail);
                Array.Copy(merged, best + 2, merged, best + 1, tail);
            }

            count--;
            if (best > 0)
            {
                _merges.TryGet(ids[best - 1], ids[best], out ranks[best - 1], out merged[best - 1]);
            }

            if (best < count - 1)
            {
                _merges.TryGet(ids[best], ids[best + 1], out ranks[best], out merged[best]);
            }
        }

        return count;
    }

    // HF's priority-queue merge for long words: O(n log n) instead of O(n^2).
    private int MergeWithHeap(BpeScratch scratch, int count)
    {
        var ids = scratch.Ids;
        var prev = scratch.Prev;
        var next = scratch.Next;
        var alive = scratch.Alive;
        var queue = scratch.Queue;
        queue.Clear();
        for (var i = 0; i < count; i++)
        {
            prev[i] = i - 1;
            next[i] = i + 1 < count ? i + 1 : -1;
            alive[i] = true;
        }

        for (var i = 0; i < count - 1; i++)
        {
            if (_merges.TryGet(ids[i], ids[i + 1], out var rank, out var mergedId))
            {
                queue.Enqueue((i, mergedId), ((long)rank << 32) | (uint)i);
            }
        }

        while (queue.TryDequeue(out var top, out _))
        {
            var pos = top.Pos;
            if (!alive[pos] || next[pos] < 0)
            {
                continue;
            }

            var right = next[pos];
            if (!_merges.TryGet(ids[pos], ids[right], out _, out var mergedId) || mergedId != top.MergedId)
            {
                continue;
            }

            ids[pos] = mergedId;
            alive[right] = false;
            next[pos] = next[right];
            if (next[pos] >= 0)
            {
                prev[next[pos]] = pos;
            }

            if (prev[pos] >= 0 && _merges.TryGet(ids[prev[pos]], ids[pos], out var leftRank, out var leftMerged))
            {
                queue.Enqueue((prev[pos], leftMerged), ((long)leftRank << 32) | (uint)prev[pos]);
            }

            if (next[pos] >= 0 && _merges.TryGet(ids[pos], ids[next[pos]], out var rightRank, out var rightMerged))
            {
                queue.Enqueue((pos, rightMerged), ((long)rightRank << 32) | (uint)pos);
            }
        }

        var written = 0;
        for (var i = 0; i >= 0 && i < count; i = next[i])
        {
            ids[written++] = ids[i];
        }

        return written;
    }

    private sealed class BpeScratch
    {
        public int[] Ids = new int[256];
        public int[] Ranks = new int[256];
        public int[] Merged = new int[256];
        public int[] Prev = new int[256];
        public int[] Next = new int[256];
        public bool[] Alive = new bool[256];
        public readonly PriorityQueue<(int Pos, int MergedId), long> Queue = new();

        public void Ensure(int size)
        {
            if (Ids.Length >= size)
            {
                return;
            }

            var n = Math.Max(size, Ids.Length * 2);
            Ids = new int[n];
            Ranks = new int[n];
            Merged = new int[n];
            Prev = new int[n];
            Next = new int[n];
            Alive = new bool[n];
        }
    }
}
