using FuseChat.Fusion.Checkpoints;
using FuseChat.Torch;

namespace FuseChat.Fusion.Merging;

/// <summary>
/// Runs a merge recipe over Hugging Face model folders, tensor by tensor: at any time it holds one
/// float32 tensor of the pivot and of each target plus at most one scratch tensor of the method (at most
/// (targets + 2) x the largest tensor as float32, see <see cref="IMergeMethod.MergeInPlace"/>), never whole models.
/// The output (sharded safetensors with index, config.json and the base model's tokenizer files) is built in
/// a staging folder beside the destination (".NAME.merging") and renamed into place at the end, so a failed
/// or interrupted merge leaves no half output folder. The staging folder survives a failure: a rerun of the
/// same recipe over the same input files skips the shards already finished; any change discards it.
/// </summary>
/// <remarks>
/// <see cref="Run"/> does everything in one process. A cluster splits the same work: one caller runs
/// <see cref="Prepare"/>, workers run <see cref="MergeShards"/> over disjoint shard ranges into the shared
/// staging folder, and the caller finishes with <see cref="Publish"/>. Both give the same bytes.
/// </remarks>
public static class CheckpointMerger
{
    /// <summary>Files of the base (or tokenizer source) model copied into the output.</summary>
    public static readonly IReadOnlyList<string> TokenizerFiles =
    [
        "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "tokenizer.model",
        "added_tokens.json", "vocab.json", "merges.txt", "generation_config.json",
    ];

    /// <summary>The default largest shard, as mergekit and transformers write them.</summary>
    public const long DefaultMaxShardBytes = 5_000_000_000;

    /// <summary>
    /// Merges as <paramref name="recipe"/> says into <paramref name="outputFolder"/>. Relative model paths
    /// are resolved against <paramref name="recipeDirectory"/>. An existing output folder is replaced only
    /// when <paramref name="overwrite"/> is set. An interrupted run (failure, cancellation, lost process)
    /// is continued by the next run with the same recipe, inputs and shard size.
    /// </summary>
    /// <param name="recipe">The recipe.</param>
    /// <param name="recipeDirectory">Where relative model paths start.</param>
    /// <param name="outputFolder">The merged model folder to create.</param>
    /// <param name="overwrite">Replace an existing output folder.</param>
    /// <param name="maxShardBytes">Largest output shard.</param>
    /// <param name="progress">Progress, see <see cref="MergeProgress"/>.</param>
    /// <param name="cancellation">Checked before each tensor; finished shards stay in the staging folder.</param>
    /// <param name="log">Receives a line when a staging folder is resumed or discarded.</param>
    public static void Run(MergeRecipe recipe, string recipeDirectory, string outputFolder, bool overwrite = false,
        long maxShardBytes = DefaultMaxShardBytes, IProgress<MergeProgress>? progress = null, CancellationToken cancellation = default,
        Action<string>? log = null)
    {
        var output = Path.GetFullPath(outputFolder);
        if (Directory.Exists(output) && !overwrite)
            throw new IOException($"output folder {output} already exists (pass overwrite to replace it)");
        using var job = MergeJob.Open(recipe, recipeDirectory, output, maxShardBytes);
        job.PrepareStaging(log);
        var resumed = job.MergeShards(0, job.Shards.Count, progress, cancellation);
        job.Publish(overwrite);
        progress?.Report(new MergeProgress(job.TensorCount, job.TensorCount, "", job.BytesTotal, job.BytesTotal, resumed, job.Shards.Count, job.Shards.Count));
    }

    /// <summary>The staging folder of a merge into <paramref name="outputFolder"/> (".NAME.merging" beside it).</summary>
    public static string StagingFolder(string outputFolder)
    {
        ArgumentNullException.ThrowIfNull(outputFolder);
        return MergeJob.StagingFolderOf(outputFolder);
    }

    /// <summary>
    /// First step of a split merge: checks the inputs, plans the shards and makes the staging folder ready
    /// (resumed when it matches, discarded otherwise). Run it once, before any <see cref="MergeShards"/>.
    /// </summary>
    /// <param name="recipe">The recipe.</param>
    /// <param name="recipeDirectory">Where relative model paths start.</param>
    /// <param name="outputFolder">The merged model folder to create.</param>
    /// <param name="maxShardBytes">Largest output shard; every step of one merge must use the same value.</param>
    /// <param name="log">Receives a line when a staging folder is resumed or discarded.</param>
    public static MergeLayout Prepare(MergeRecipe recipe, string recipeDirectory, string outputFolder,
        long maxShardBytes = DefaultMaxShardBytes, Action<string>? log = null)
    {
        using var job = MergeJob.Open(recipe, recipeDirectory, outputFolder, maxShardBytes);
        var done = job.PrepareStaging(log);
        return new MergeLayout(job.Shards.Count, job.TensorCount, job.Staging, done);
    }

    /// <summary>
    /// Merges output shards [<paramref name="firstShard"/>, + <paramref name="shardCount"/>) into the staging
    /// folder <see cref="Prepare"/> made, skipping shards already finished. Disjoint ranges may run at once,
    /// in different processes or machines sharing the folder.
    /// </summary>
    /// <param name="recipe">The recipe.</param>
    /// <param name="recipeDirectory">Where relative model paths start.</param>
    /// <param name="outputFolder">The merged model folder to create.</param>
    /// <param name="firstShard">First shard index of the range.</param>
    /// <param name="shardCount">Shards in the range.</param>
    /// <param name="maxShardBytes">As given to <see cref="Prepare"/>.</param>
    /// <param name="progress">Progress of this range, see <see cref="MergeProgress"/>.</param>
    /// <param name="cancellation">Checked before each tensor; finished shards stay.</param>
    public static void MergeShards(MergeRecipe recipe, string recipeDirectory, string outputFolder, int firstShard, int shardCount,
        long maxShardBytes = DefaultMaxShardBytes, IProgress<MergeProgress>? progress = null, CancellationToken cancellation = default)
    {
        using var job = MergeJob.Open(recipe, recipeDirectory, outputFolder, maxShardBytes);
        job.CheckStaging();
        job.MergeShards(firstShard, shardCount, progress, cancellation);
    }

    /// <summary>
    /// Last step of a split merge: once every shard is finished, writes the index, config.json and tokenizer
    /// files and renames the staging folder into <paramref name="outputFolder"/> (the last step of all).
    /// </summary>
    /// <param name="recipe">The recipe.</param>
    /// <param name="recipeDirectory">Where relative model paths start.</param>
    /// <param name="outputFolder">The merged model folder to create.</param>
    /// <param name="maxShardBytes">As given to <see cref="Prepare"/>.</param>
    /// <param name="overwrite">Replace an existing output folder.</param>
    public static void Publish(MergeRecipe recipe, string recipeDirectory, string outputFolder,
        long maxShardBytes = DefaultMaxShardBytes, bool overwrite = false)
    {
        using var job = MergeJob.Open(recipe, recipeDirectory, outputFolder, maxShardBytes);
        job.CheckStaging();
        job.Publish(overwrite);
    }
}
