using FuseChat.Fusion.Representations;
using FuseChat.Fusion.Tokenization;

namespace FuseChat.Fusion.Alignment;

/// <summary>
/// What every alignment step of one source needs, opened and checked once per call: both representation
/// readers (complete, same data, same template), both tokenizers (matching the representations), the
/// vocabularies and whether they are identical.
/// </summary>
internal sealed class AlignmentContext
{
    private AlignmentContext(AlignmentJob job, RepresentationReader pivots, RepresentationReader sources,
        TokenizerVocabulary pivotVocabulary, TokenizerVocabulary sourceVocabulary)
    {
        Job = job;
        Pivots = pivots;
        Sources = new SourceIndex(sources);
        SourceManifest = sources.Manifest;
        PivotVocabulary = pivotVocabulary;
        SourceVocabulary = sourceVocabulary;
        Identity = AlignmentPlan.IsIdentity(pivotVocabulary, sourceVocabulary);
        Aligner = new CorpusAligner(pivotVocabulary, sourceVocabulary, job.MaxDegreeOfParallelism);
    }

    public AlignmentJob Job { get; }

    public RepresentationReader Pivots { get; }

    public RepresentationManifest PivotManifest => Pivots.Manifest;

    public RepresentationManifest SourceManifest { get; }

    public SourceIndex Sources { get; }

    public TokenizerVocabulary PivotVocabulary { get; }

    public TokenizerVocabulary SourceVocabulary { get; }

    public bool Identity { get; }

    public CorpusAligner Aligner { get; }

    public int TopK => SourceManifest.TopK;

    public static AlignmentContext Open(AlignmentJob job)
    {
        var pivotReader = RepresentationReader.Open(job.PivotRepresentations);
        var sourceReader = RepresentationReader.Open(job.SourceRepresentations);
        var pivotManifest = pivotReader.Manifest;
        var sourceManifest = sourceReader.Manifest;
        if (!pivotManifest.Complete) throw new InvalidOperationException($"{job.PivotRepresentations}: the pivot's representations are not complete");
        if (!sourceManifest.Complete) throw new InvalidOperationException($"{job.SourceRepresentations}: the source's representations are not complete");
        if (pivotManifest.DataSha256 != sourceManifest.DataSha256)
            throw new InvalidOperationException($"pivot and source representations come from different data ({pivotManifest.Data} vs {sourceManifest.Data})");
        if (!string.Equals(pivotManifest.Template, sourceManifest.Template, StringComparison.OrdinalIgnoreCase))
            throw new InvalidOperationException($"pivot and source representations use different templates ({pivotManifest.Template} vs {sourceManifest.Template})");
        var pivotTokenizer = HfTokenizer.Load(job.PivotTokenizer);
        var sourceTokenizer = HfTokenizer.Load(job.SourceTokenizer);
        CheckTokenizer(pivotTokenizer, pivotManifest, job.PivotTokenizer);
        CheckTokenizer(sourceTokenizer, sourceManifest, job.SourceTokenizer);
        return new AlignmentContext(job, pivotReader, sourceReader, new TokenizerVocabulary(pivotTokenizer), new TokenizerVocabulary(sourceTokenizer));
    }

    /// <summary>The pivot shard with number <paramref name="index"/>.</summary>
    public RepresentationShardInfo PivotShard(int index) =>
        PivotManifest.Shards.FirstOrDefault(s => s.Index == index)
        ?? throw new ArgumentOutOfRangeException(nameof(index), index, $"{Job.PivotRepresentations} has no shard {index}");

    private static void CheckTokenizer(HfTokenizer tokenizer, RepresentationManifest manifest, string path)
    {
        if (tokenizer.Count != manifest.TokenizerVocab)
            throw new InvalidOperationException(
                $"tokenizer {path} has {tokenizer.Count} tokens but the representations were made with one of {manifest.TokenizerVocab} ({manifest.Tokenizer})");
    }

    /// <summary>Finds a source conversation by index, reading the shard that holds it (one shard cached per thread).</summary>
    internal sealed class SourceIndex(RepresentationReader reader)
    {
        private readonly RepresentationShardInfo[] shards = [.. reader.Manifest.Shards.OrderBy(s => s.FirstConversation)];
        private readonly ThreadLocal<(int Index, Dictionary<long, ConversationRepresentation> Records)?> cache = new();

        public ConversationRepresentation? Find(long conversationIndex)
        {
            var shard = Array.FindIndex(shards, s => conversationIndex >= s.FirstConversation && conversationIndex < s.FirstConversation + s.Conversations);
            if (shard < 0) return null;
            if (cache.Value is not { } cached || cached.Index != shard)
            {
                var records = RepresentationReader.ReadShard(Path.Combine(reader.Folder, shards[shard].File)).ToDictionary(r => r.ConversationIndex);
                cache.Value = cached = (shard, records);
            }
            return cached.Records.GetValueOrDefault(conversationIndex);
        }
    }
}
