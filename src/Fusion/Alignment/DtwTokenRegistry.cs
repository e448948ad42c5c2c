using System.Collections.Concurrent;

namespace FuseChat.Fusion.Alignment;

/// <summary>One distinct token string as DTW sees it: its id and what the cost and its lower bound need.</summary>
internal sealed class DtwToken
{
    /// <summary>Id of the token string in its registry, from 1 (cost cache key).</summary>
    public required int Id { get; init; }

    /// <summary>Number of the registry generation the token belongs to (<see cref="DtwTokenRegistry.Generation"/>):
    /// its ids mean nothing in another. A number, not the registry, so that a token kept elsewhere does not keep its
    /// generation's cost table alive.</summary>
    public required int Generation { get; init; }

    /// <summary>The string without markers.</summary>
    public required string Stripped { get; init; }

    /// <summary>The string with markers spelled "▁", the comparison form next to a bare marker.</summary>
    public required string Unified { get; init; }

    /// <summary>Id of the stripped string: equal classes of non-bare tokens cost 0.</summary>
    public required int Class { get; init; }

    /// <summary>Length of the stripped string (0 for a bare marker).</summary>
    public required int Length { get; init; }

    /// <summary>Characters of the stripped string, hashed into 32 buckets.</summary>
    public required uint Mask { get; init; }

    /// <summary>Id of the unified string.</summary>
    public required int UClass { get; init; }

    /// <summary>Length of the unified string.</summary>
    public required int ULength { get; init; }

    /// <summary>Characters of the unified string, hashed into 32 buckets.</summary>
    public required uint UMask { get; init; }
}

/// <summary>
/// Process-wide interner of token strings (one generation): ids, comparison forms and the cost table keyed by
/// those ids. Ids are never reused within a generation, so a cached cost always belongs to the strings it names.
/// </summary>
internal sealed class DtwTokenRegistry
{
    /// <summary>Strings a generation takes before the next pair starts a new one (keeps ids and memory bounded).</summary>
    public const int TokenLimit = 1 << 19;

    private static int s_lastGeneration;
    private static DtwTokenRegistry s_current = new();

    // Sized for the first few thousand strings: a generation fills up from empty, and growing a concurrent dictionary
    // rehashes every entry (it showed in profiles of cold alignment).
    private const int InitialCapacity = 8192;

    private readonly ConcurrentDictionary<string, DtwToken> _tokens = new(Environment.ProcessorCount, InitialCapacity, StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _classes = new(Environment.ProcessorCount, InitialCapacity, StringComparer.Ordinal);
    private int _lastId;
    private int _lastClass;

    /// <summary>This generation's number, unique in the process.</summary>
    public int Generation { get; } = Interlocked.Increment(ref s_lastGeneration);

    /// <summary>The generation new pairs use.</summary>
    public static DtwTokenRegistry Current => Volatile.Read(ref s_current);

    /// <summary>Costs of pairs of this generation's ids.</summary>
    public DtwCostTable Costs { get; } = new();

    /// <summary>Ids handed out (distinct strings, plus any lost to races).</summary>
    public int Count => Volatile.Read(ref _lastId);

    /// <summary>Starts a new, empty generation.</summary>
    public static void Reset() => Volatile.Write(ref s_current, new DtwTokenRegistry());

    /// <summary>The entry of a token string, added on first sight.</summary>
    public DtwToken Get(string token) => _tokens.TryGetValue(token, out var t) ? t : Add(token);

    private DtwToken Add(string token)
    {
        if (Volatile.Read(ref _lastId) >= TokenLimit)
        {
            // This pair finishes here (its ids must stay comparable); later pairs take the new generation.
            Interlocked.CompareExchange(ref s_current, new DtwTokenRegistry(), this);
        }
        var stripped = TokenMarkers.Strip(token);
        var unified = TokenMarkers.Unify(token);
        var strippedClass = ClassOf(stripped);
        var strippedMask = MaskOf(stripped);
        // Most tokens have no marker: both forms are the token itself, one class and mask serve both.
        var same = ReferenceEquals(stripped, unified);
        var t = new DtwToken
        {
            Id = Interlocked.Increment(ref _lastId),
            Generation = Generation,
            Stripped = stripped,
            Unified = unified,
            Class = strippedClass,
            Length = stripped.Length,
            Mask = strippedMask,
            UClass = same ? strippedClass : ClassOf(unified),
            ULength = unified.Length,
            UMask = same ? strippedMask : MaskOf(unified),
        };
        return _tokens.GetOrAdd(token, t);
    }

    // Stripped and unified strings share one id space: equal ids, equal strings.
    private int ClassOf(string text) =>
        _classes.TryGetValue(text, out var cls) ? cls : _classes.GetOrAdd(text, _ => Interlocked.Increment(ref _lastClass));

    private static uint MaskOf(string text)
    {
        uint mask = 0;
        foreach (var c in text)
        {
            mask |= 1U << (c & 31);
        }
        return mask;
    }
}
