using FuseChat.Fusion.Checkpoints;
using FuseChat.Torch;

namespace FuseChat.Fusion.Merging;

/// <summary>
/// Runs a merge recipe over Hugging Face model folders, tensor by tensor: at any time it holds one
/// float32 tensor of the pivot and of each target plus at most one scratch tensor of the method (at most
/// (targets + 2) x the largest tensor as float32, see <see cref="IMergeMethod.MergeInPlace"/>), never whole models. The output (sharded safetensors with index, config.json and the base model's
/// tokenizer files) is written to a temporary folder beside the destination and renamed into place
/// at the end, so a failed or interrupted merge leaves no half folder.
/// </summary>
public static class CheckpointMerger
{
    /// <summary>Files of the base (or tokenizer source) model copied into the output.</summary>
    public static readonly IReadOnlyList<string> TokenizerFiles =
    [
        "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "tokenizer.model",
        "added_tokens.json", "vocab.json", "merges.txt", "generation_config.json",
    ];

    /// <summary>
    /// Merges as <paramref name="recipe"/> says into <paramref name="outputFolder"/>. Relative model paths
    /// are resolved against <paramref name="recipeDirectory"/>. An existing output folder is replaced only
    /// when <paramref name="overwrite"/> is set.
    /// </summary>
    public static void Run(MergeRecipe recipe, string recipeDirectory, string outputFolder, bool overwrite = false,
        long maxShardBytes = 5_000_000_000, IProgress<MergeProgress>? progress = null, CancellationToken cancellation = default)
    {
        var output = Path.GetFullPath(outputFolder);
        if (Directory.Exists(output) && !overwrite)
            throw new IOException($"output folder {output} already exists (pass overwrite to replace it)");
        string Resolve(string model) => Path.GetFullPath(Path.Combine(recipeDirectory, model));

        var method = MergeMethods.Create(recipe);
        var targets = recipe.Targets;
        var basePath = Resolve(recipe.BaseModel ?? targets[0].Model);
        var readers = new List<CheckpointReader>();
        try
        {
            var pivot = Open(basePath, readers);
            var models = targets.Select(t => Open(Resolve(t.Model), readers)).ToList();
            var perModel = targets.Select(t => t.Parameters).ToList();
            CheckCompatible(pivot, models, targets.Select(t => Resolve(t.Model)).ToList());

            var names = pivot.TensorNames;
            var declarations = names.Select(n =>
            {
                var info = pivot.GetTensor(n);
                var dtype = OutputDType(recipe, info.DType);
                return new TensorDeclaration(n, dtype.ToSafetensors(), info.Shape);
            }).ToList();
            var bytesTotal = declarations.Sum(d => d.ByteLength);

            var parent = Path.GetDirectoryName(output) ?? ".";
            Directory.CreateDirectory(parent);
            var staging = Path.Combine(parent, $".{Path.GetFileName(output)}.merging-{Guid.NewGuid():N}");
            try
            {
                long written = 0;
                using (var writer = new ShardedCheckpointWriter(staging, declarations, maxShardBytes))
                {
                    for (var i = 0; i < names.Count; i++)
                    {
                        cancellation.ThrowIfCancellationRequested();
                        var name = names[i];
                        progress?.Report(new MergeProgress(i, names.Count, name, written, bytesTotal));
                        MergeOne(method, name, pivot, models, perModel, recipe, writer, declarations[i]);
                        written += declarations[i].ByteLength;
                    }
                    writer.Complete();
                }
                CopyMetadata(basePath, recipe.TokenizerSource is null ? basePath : Resolve(recipe.TokenizerSource), staging, recipe);
                Publish(staging, output, overwrite);
                progress?.Report(new MergeProgress(names.Count, names.Count, "", written, bytesTotal));
            }
            catch
            {
                if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
                throw;
            }
        }
        finally
        {
            foreach (var r in readers) r.Dispose();
        }
    }

    private static CheckpointReader Open(string folder, List<CheckpointReader> readers)
    {
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"model folder {folder} does not exist");
        var reader = CheckpointReader.Open(folder);
        readers.Add(reader);
        return reader;
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

    private static void MergeOne(IMergeMethod method, string name, CheckpointReader pivot, IReadOnlyList<CheckpointReader> models,
        IReadOnlyList<ModelMergeParameters> perModel, MergeRecipe recipe, ShardedCheckpointWriter writer, TensorDeclaration declaration)
    {
        using var scope = DisposeScope.Open();
        using var noGrad = NoGradScope.Enter();
        var dtype = CheckpointTensorExtensions.ToDType(declaration.DType);
        var baseTensor = pivot.ReadTensor(name);
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
        var tensors = new List<Tensor>(models.Count);
        for (var i = 0; i < models.Count; i++)
        {
            var index = i;
            tensors.Add(ContiguousFloat32(models[i].ReadTensor(name), m => MergeTensors.AlignedFloat32(name, pivotShape, m, index)));
        }
        var merged = method.MergeInPlace(name, working, tensors, perModel, recipe.Parameters);
        foreach (var t in tensors) t.Dispose();
        if (!merged.IsFinite().All())
            throw new InvalidDataException($"merging tensor '{name}' produced NaN or infinite values");
        writer.WriteTensor(name, merged, dtype);
    }

    /// <summary>
    /// The float32 working copy of a tensor just read; every other handle is disposed at once, so that the
    /// stored copy's memory (and no stray reference to the working storage) outlives this call.
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

    private static void CopyMetadata(string basePath, string tokenizerPath, string staging, MergeRecipe recipe)
    {
        var configPath = Path.Combine(basePath, ModelConfig.FileName);
        if (File.Exists(configPath))
        {
            var config = ModelConfig.Load(configPath);
            (recipe.DType is { } dtype ? config with { TorchDtype = dtype.TorchDtypeName() } : config)
                .Save(Path.Combine(staging, ModelConfig.FileName));
        }
        foreach (var file in TokenizerFiles)
        {
            var source = Path.Combine(tokenizerPath, file);
            if (File.Exists(source)) File.Copy(source, Path.Combine(staging, file));
        }
    }

    private static void Publish(string staging, string output, bool overwrite)
    {
        if (!Directory.Exists(output))
        {
            Directory.Move(staging, output);
            return;
        }
        if (!overwrite) throw new IOException($"output folder {output} appeared during the merge");
        // Swap: the old folder is moved aside first so that the output path always holds a whole model.
        var old = output + $".old-{Guid.NewGuid():N}";
        Directory.Move(output, old);
        Directory.Move(staging, output);
        Directory.Delete(old, recursive: true);
    }
}
