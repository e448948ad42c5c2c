using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using FuseChat.Fusion.Checkpoints;
using FuseChat.Torch;

namespace FuseChat.Fusion.Merging;

/// <summary>
/// One merge of a recipe into an output folder, planned as output shards, with its resumable staging
/// folder. The staging folder (".NAME.merging" beside the output) holds the finished shards under their
/// final names and, in ".merge-state", a manifest with the fingerprint of the recipe and the input files
/// plus one marker per finished shard; each shard and marker is written under a temporary name and renamed.
/// A later run with the same fingerprint skips the marked shards; any other fingerprint discards the folder.
/// </summary>
internal sealed class MergeJob : IDisposable
{
    private const string StateFolderName = ".merge-state";
    private const string ManifestName = "merge.json";
    private const string MarkerSuffix = ".done.json";
    private const int FormatVersion = 1;

    private readonly List<CheckpointReader> _readers = [];
    private readonly IMergeMethod _method;
    private readonly CheckpointReader _pivot;
    private readonly IReadOnlyList<CheckpointReader> _models;
    private readonly IReadOnlyList<ModelMergeParameters> _perModel;
    private readonly string _basePath;
    private readonly string _tokenizerPath;

    private MergeJob(MergeRecipe recipe, string recipeDirectory, string outputFolder, long maxShardBytes)
    {
        Recipe = recipe;
        Output = Path.GetFullPath(outputFolder);
        Staging = StagingFolderOf(Output);
        string Resolve(string model) => Path.GetFullPath(Path.Combine(recipeDirectory, model));
        _method = MergeMethods.Create(recipe);
        var targets = recipe.Targets;
        _basePath = Resolve(recipe.BaseModel ?? targets[0].Model);
        _tokenizerPath = recipe.TokenizerSource is null ? _basePath : Resolve(recipe.TokenizerSource);
        try
        {
            _pivot = Open(_basePath);
            _models = targets.Select(t => Open(Resolve(t.Model))).ToList();
            _perModel = targets.Select(t => t.Parameters).ToList();
            CheckCompatible(_pivot, _models, targets.Select(t => Resolve(t.Model)).ToList());
            var declarations = _pivot.TensorNames.Select(n =>
            {
                var info = _pivot.GetTensor(n);
                return new TensorDeclaration(n, OutputDType(recipe, info.DType).ToSafetensors(), info.Shape);
            }).ToList();
            Shards = ShardedCheckpointWriter.PlanShards(declarations, maxShardBytes, Output, nameof(maxShardBytes));
            ShardNames = ShardedCheckpointWriter.ShardNames(Shards.Count, "model");
            TensorCount = declarations.Count;
            BytesTotal = declarations.Sum(d => d.ByteLength);
            Fingerprint = ComputeFingerprint(recipe, _basePath, _tokenizerPath, targets.Select(t => Resolve(t.Model)).ToList(), maxShardBytes);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public MergeRecipe Recipe { get; }

    public string Output { get; }

    public string Staging { get; }

    /// <summary>The output shards, in order, each with its tensors in storage order.</summary>
    public IReadOnlyList<IReadOnlyList<TensorDeclaration>> Shards { get; }

    public IReadOnlyList<string> ShardNames { get; }

    public int TensorCount { get; }

    public long BytesTotal { get; }

    /// <summary>SHA-256 (hex) of the recipe, the shard size and the input files' names, sizes and modification times.</summary>
    public string Fingerprint { get; }

    private string StateFolder => Path.Combine(Staging, StateFolderName);

    /// <summary>".NAME.merging" beside the output folder: the same output always resumes from the same place.</summary>
    public static string StagingFolderOf(string outputFolder)
    {
        var output = Path.GetFullPath(outputFolder).TrimEnd(Path.DirectorySeparatorChar);
        return Path.Combine(Path.GetDirectoryName(output) ?? ".", $".{Path.GetFileName(output)}.merging");
    }

    /// <summary>Opens the inputs, checks they can be merged and plans the shards; touches no file.</summary>
    public static MergeJob Open(MergeRecipe recipe, string recipeDirectory, string outputFolder, long maxShardBytes)
    {
        ArgumentNullException.ThrowIfNull(recipe);
        ArgumentNullException.ThrowIfNull(recipeDirectory);
        ArgumentNullException.ThrowIfNull(outputFolder);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxShardBytes);
        return new MergeJob(recipe, recipeDirectory, outputFolder, maxShardBytes);
    }

    /// <summary>
    /// Makes the staging folder ready: kept when its manifest has this job's fingerprint, otherwise discarded
    /// (with a log line) and created afresh.
    /// Returns the number of shards already finished.
    /// </summary>
    public int PrepareStaging(Action<string>? log)
    {
        if (Directory.Exists(Staging))
        {
            var recorded = ReadManifestFingerprint();
            if (recorded == Fingerprint)
            {
                // Temporary files of interrupted shards stay until Publish: in a split merge, ranges of an
                // earlier attempt may still be writing theirs while the coordinator prepares again.
                var done = Enumerable.Range(0, Shards.Count).Count(IsShardDone);
                log?.Invoke($"resuming the merge in {Staging}: {done} of {Shards.Count} shards already done");
                return done;
            }
            log?.Invoke(recorded is null
                ? $"discarding staging folder {Staging}: it has no readable merge manifest"
                : $"discarding staging folder {Staging}: the recipe or the input files changed since it was started");
            Directory.Delete(Staging, recursive: true);
        }
        Directory.CreateDirectory(StateFolder);
        var manifest = JsonSerializer.SerializeToUtf8Bytes(new Manifest(FormatVersion, Fingerprint, [.. ShardNames], TensorCount));
        WriteAtomically(Path.Combine(StateFolder, ManifestName), manifest);
        return 0;
    }

    /// <summary>Throws unless the staging folder was prepared for this very merge (a range merge runs only after its coordinator prepared it).</summary>
    public void CheckStaging()
    {
        var recorded = Directory.Exists(Staging) ? ReadManifestFingerprint() : null;
        if (recorded != Fingerprint)
            throw new InvalidOperationException(recorded is null
                ? $"staging folder {Staging} is not prepared for this merge"
                : $"staging folder {Staging} belongs to a merge of another recipe or other input files");
    }

    /// <summary>True when shard <paramref name="index"/> is on disk with a marker of this fingerprint listing its tensors.</summary>
    public bool IsShardDone(int index)
    {
        var shard = Path.Combine(Staging, ShardNames[index]);
        var marker = MarkerPath(index);
        if (!File.Exists(shard) || !File.Exists(marker)) return false;
        try
        {
            var done = JsonSerializer.Deserialize<ShardMarker>(File.ReadAllBytes(marker));
            return done is not null && done.Fingerprint == Fingerprint && done.Bytes == new FileInfo(shard).Length
                && done.Tensors.SequenceEqual(Shards[index].Select(t => t.Name));
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>
    /// Merges the shards [first, first + count) that are not done yet, each into a temporary file renamed
    /// into the staging folder once complete, followed by its marker. Progress counts the range only.
    /// Returns the number of tensors found finished (resumed) rather than merged.
    /// </summary>
    public int MergeShards(int first, int count, IProgress<MergeProgress>? progress, CancellationToken cancellation)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(first);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(first + count, Shards.Count);
        var range = Enumerable.Range(first, count).ToList();
        var tensorsTotal = range.Sum(s => Shards[s].Count);
        var bytesTotal = range.Sum(s => Shards[s].Sum(t => t.ByteLength));
        var resumed = range.Where(IsShardDone).ToHashSet();
        var tensorsResumed = resumed.Sum(s => Shards[s].Count);
        int tensorsDone = tensorsResumed, shardsDone = resumed.Count;
        long written = resumed.Sum(s => Shards[s].Sum(t => t.ByteLength));
        foreach (var s in range)
        {
            if (resumed.Contains(s)) continue;
            var path = Path.Combine(Staging, ShardNames[s]);
            using (var writer = new SafetensorsWriter(path, Shards[s]))
            {
                foreach (var declaration in Shards[s])
                {
                    cancellation.ThrowIfCancellationRequested();
                    progress?.Report(new MergeProgress(tensorsDone, tensorsTotal, declaration.Name, written, bytesTotal, tensorsResumed, shardsDone, count));
                    MergeOne(declaration, writer);
                    tensorsDone++;
                    written += declaration.ByteLength;
                }
                writer.Complete();
            }
            var marker = new ShardMarker(Fingerprint, new FileInfo(path).Length, [.. Shards[s].Select(t => t.Name)]);
            WriteAtomically(MarkerPath(s), JsonSerializer.SerializeToUtf8Bytes(marker));
            shardsDone++;
            progress?.Report(new MergeProgress(tensorsDone, tensorsTotal, "", written, bytesTotal, tensorsResumed, shardsDone, count));
        }
        return tensorsResumed;
    }

    /// <summary>
    /// Finishes the output: checks every shard is done, writes the index (several shards), config.json and
    /// the tokenizer files, removes the merge state and renames the staging folder into the output, last.
    /// </summary>
    public void Publish(bool overwrite)
    {
        var missing = Enumerable.Range(0, Shards.Count).Where(s => !IsShardDone(s)).Select(s => ShardNames[s]).ToList();
        if (missing.Count > 0)
            throw new InvalidOperationException($"cannot publish {Output}: {missing.Count} shard(s) not merged yet ({string.Join(", ", missing.Take(5))})");
        if (Directory.Exists(Output) && !overwrite) throw new IOException($"output folder {Output} already exists (pass overwrite to replace it)");
        if (Shards.Count > 1)
        {
            var weightMap = new Dictionary<string, string>(StringComparer.Ordinal);
            for (var s = 0; s < Shards.Count; s++)
                foreach (var t in Shards[s]) weightMap[t.Name] = ShardNames[s];
            WriteAtomically(Path.Combine(Staging, "model.safetensors.index.json"), ShardedCheckpointWriter.BuildIndex(BytesTotal, weightMap));
        }
        CopyMetadata();
        // The state goes just before the rename: the published folder is a plain Hugging Face folder.
        Directory.Delete(StateFolder, recursive: true);
        foreach (var temp in Directory.EnumerateFiles(Staging, ".*.tmp")) File.Delete(temp);
        MoveIntoPlace(overwrite);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var r in _readers) r.Dispose();
        _readers.Clear();
    }

    private string MarkerPath(int shard) => Path.Combine(StateFolder, ShardNames[shard] + MarkerSuffix);

    private string? ReadManifestFingerprint()
    {
        try
        {
            var path = Path.Combine(StateFolder, ManifestName);
            if (!File.Exists(path)) return null;
            var manifest = JsonSerializer.Deserialize<Manifest>(File.ReadAllBytes(path));
            return manifest?.Version == FormatVersion ? manifest.Fingerprint : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private CheckpointReader Open(string folder)
    {
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"model folder {folder} does not exist");
        var reader = CheckpointReader.Open(folder);
        _readers.Add(reader);
        return reader;
    }

    private void MergeOne(TensorDeclaration declaration, SafetensorsWriter writer)
    {
        var name = declaration.Name;
        using var scope = DisposeScope.Open();
        using var noGrad = NoGradScope.Enter();
        var dtype = CheckpointTensorExtensions.ToDType(declaration.DType);
        var baseTensor = _pivot.ReadTensor(name);
        if (!baseTensor.DType.IsFloatingPoint())
        {
            // Integer buffers (none in the supported families, but cheap to be safe) are the base's.
            writer.WriteTensor(name, baseTensor, dtype);
            return;
        }
        // Each model is converted to float32 as it is read and its stored copy dropped at once, so the working
        // set is the pivot, the n models and the method's one scratch: (n + 2) tensors, all float32.
        var pivotShape = baseTensor.Shape;
        var working = ContiguousFloat32(baseTensor, b => b.To(DType.Float32));
        var tensors = new List<Tensor>(_models.Count);
        for (var i = 0; i < _models.Count; i++)
        {
            var index = i;
            tensors.Add(ContiguousFloat32(_models[i].ReadTensor(name), m => MergeTensors.AlignedFloat32(name, pivotShape, m, index)));
        }
        var merged = _method.MergeInPlace(name, working, tensors, _perModel, Recipe.Parameters);
        foreach (var t in tensors) t.Dispose();
        if (!merged.IsFinite().All())
            throw new InvalidDataException($"merging tensor '{name}' produced NaN or infinite values");
        writer.WriteTensor(name, merged, dtype);
    }

    /// <summary>
    /// The float32 working copy of a tensor just read; every other handle is disposed at once, so that no
    /// stored copy and no stray reference to the working storage outlives this call.
    /// </summary>
    private static Tensor ContiguousFloat32(Tensor stored, Func<Tensor, Tensor> toFloat32)
    {
        try
        {
            using var converted = toFloat32(stored);
            return converted.Contiguous();
        }
        finally
        {
            stored.Dispose();
        }
    }

    /// <summary>Every model must hold the base's tensors with the same shapes (extra vocabulary rows excepted).</summary>
    private static void CheckCompatible(CheckpointReader pivot, IReadOnlyList<CheckpointReader> models, IReadOnlyList<string> paths)
    {
        var problems = new List<string>();
        for (var m = 0; m < models.Count; m++)
        {
            foreach (var name in pivot.TensorNames)
            {
                if (!models[m].TryGetTensor(name, out var info))
                {
                    problems.Add($"{paths[m]}: tensor '{name}' is missing");
                    continue;
                }
                var expected = pivot.GetTensor(name).Shape;
                var extraRows = MergeTensors.IsVocabularyTensor(name) && info.Shape.Length == expected.Length
                    && info.Shape[0] >= expected[0] && info.Shape.AsSpan()[1..].SequenceEqual(expected.AsSpan()[1..]);
                if (!info.Shape.SequenceEqual(expected) && !extraRows)
                    problems.Add($"{paths[m]}: tensor '{name}' has shape {info.FormatShape()}, the base has {ShapeText.Format(expected.AsSpan())}");
            }
        }
        if (problems.Count > 0)
            throw new InvalidDataException("models cannot be merged:\n  " + string.Join("\n  ", problems.Take(50))
                + (problems.Count > 50 ? $"\n  ... and {problems.Count - 50} more" : ""));
    }

    private static DType OutputDType(MergeRecipe recipe, SafetensorsDType stored)
    {
        var dtype = CheckpointTensorExtensions.ToDType(stored);
        return dtype.IsFloatingPoint() ? recipe.DType ?? dtype : dtype;
    }

    private static string ComputeFingerprint(MergeRecipe recipe, string basePath, string tokenizerPath, IReadOnlyList<string> targetPaths, long maxShardBytes)
    {
        var text = new StringBuilder();
        var c = CultureInfo.InvariantCulture;
        text.Append(c, $"version {FormatVersion}\nmethod {recipe.MergeMethod} {recipe.SceVariant}\ndtype {recipe.DType}\nshard {maxShardBytes}\n");
        text.Append("parameters ").Append(JsonSerializer.Serialize(recipe.Parameters)).Append('\n');
        text.Append(c, $"base {basePath}\ntokenizer {tokenizerPath}\n");
        for (var i = 0; i < targetPaths.Count; i++)
            text.Append(c, $"target {targetPaths[i]} ").Append(JsonSerializer.Serialize(recipe.Targets[i].Parameters)).Append('\n');
        // Sizes and modification times stand in for the contents: hashing gigabytes of weights on every
        // start would cost as much as merging a good part of them.
        foreach (var folder in targetPaths.Prepend(basePath).Append(tokenizerPath).Distinct(StringComparer.Ordinal))
        {
            foreach (var file in new DirectoryInfo(folder).EnumerateFiles().OrderBy(f => f.Name, StringComparer.Ordinal))
                text.Append(c, $"file {file.FullName} {file.Length} {file.LastWriteTimeUtc.Ticks}\n");
        }
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }

    private void CopyMetadata()
    {
        var configPath = Path.Combine(_basePath, ModelConfig.FileName);
        if (File.Exists(configPath))
        {
            var config = ModelConfig.Load(configPath);
            (Recipe.DType is { } dtype ? config with { TorchDtype = dtype.TorchDtypeName() } : config)
                .Save(Path.Combine(Staging, ModelConfig.FileName));
        }
        foreach (var file in CheckpointMerger.TokenizerFiles)
        {
            var source = Path.Combine(_tokenizerPath, file);
            // Overwrite: a publish interrupted after copying is simply run again.
            if (File.Exists(source)) File.Copy(source, Path.Combine(Staging, file), overwrite: true);
        }
    }

    private void MoveIntoPlace(bool overwrite)
    {
        if (!Directory.Exists(Output))
        {
            Directory.Move(Staging, Output);
            return;
        }
        if (!overwrite) throw new IOException($"output folder {Output} appeared during the merge");
        // Swap: the old folder is moved aside first so that the output path always holds a whole model.
        var old = Output + $".old-{Guid.NewGuid():N}";
        Directory.Move(Output, old);
        Directory.Move(Staging, Output);
        Directory.Delete(old, recursive: true);
    }

    /// <summary>Writes a small file under a temporary name in the same folder, flushes it and renames it into place.</summary>
    private static void WriteAtomically(string path, byte[] bytes)
    {
        var temp = Path.Combine(Path.GetDirectoryName(path)!, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
            {
                stream.Write(bytes);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    private sealed record Manifest(int Version, string Fingerprint, string[] Shards, int Tensors);

    private sealed record ShardMarker(string Fingerprint, long Bytes, string[] Tensors);
}
