using FuseChat.Grains.Runs;
using FuseChat.Grains.Storage;

namespace FuseChat.Grains.Planning;

/// <summary>
/// Brings what <see cref="RunCostEstimator"/> reads of a spec's <c>artifact:</c> inputs from the artifact store into a
/// local folder: of each model its config.json and tokenizer files (not its weights), and each data file; and gives
/// the spec with those local paths. A run's workers pull the same files into the run's work/artifacts; planning must
/// not write there, since the run may never start.
/// </summary>
public static class RunCostInputs
{
    /// <summary>Whether <paramref name="spec"/> names any input in the artifact store.</summary>
    public static bool AnyInStore(RunSpec spec) =>
        RunSpecValidator.ArtifactModelPrefixes(spec).Count > 0 || RunSpecValidator.ArtifactDataKeys(spec).Count > 0;

    /// <summary>Downloads the inputs into <paramref name="folder"/> and returns <paramref name="spec"/> reading them there.</summary>
    /// <exception cref="FileNotFoundException">The store lacks a file the estimate needs; the message names it.</exception>
    public static async Task<RunSpec> FetchAsync(IArtifactStore store, RunSpec spec, string folder, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(spec);
        foreach (var prefix in RunSpecValidator.ArtifactModelPrefixes(spec))
        {
            foreach (var file in SourceAlignmentGrain.TokenizerFiles)
            {
                var path = $"{prefix}/{file}";
                if (!await store.ExistsAsync(path, cancellationToken).ConfigureAwait(false))
                {
                    // tokenizer_config.json is optional to the tokenizer; config.json and tokenizer.json are not.
                    if (file == "tokenizer_config.json") continue;
                    throw new FileNotFoundException($"{RunSpecValidator.ArtifactScheme}{prefix} has no {file} in the artifact store", path);
                }
                await store.DownloadFileAsync(path, Local(folder, path), cancellationToken).ConfigureAwait(false);
            }
        }
        foreach (var key in RunSpecValidator.ArtifactDataKeys(spec))
        {
            if (!await store.ExistsAsync(key, cancellationToken).ConfigureAwait(false))
                throw new FileNotFoundException($"{RunSpecValidator.ArtifactScheme}{key} is not in the artifact store", key);
            await store.DownloadFileAsync(key, Local(folder, key), cancellationToken).ConfigureAwait(false);
        }

        var inRun = Path.Combine(spec.OutputFolder, "work", "artifacts") + Path.DirectorySeparatorChar;
        string Rebase(string path) => path.StartsWith(inRun, StringComparison.Ordinal) ? Local(folder, path[inRun.Length..]) : path;
        string? RebaseOptional(string? path) => path is null ? null : Rebase(path);
        return spec with
        {
            Pivot = spec.Pivot with { Path = Rebase(spec.Pivot.Path) },
            Sources = [.. spec.Sources.Select(s => s with { Path = Rebase(s.Path) })],
            Data = spec.Data with { Train = Rebase(spec.Data.Train), EvalChats = RebaseOptional(spec.Data.EvalChats), EvalTasks = RebaseOptional(spec.Data.EvalTasks) },
        };
    }

    private static string Local(string folder, string key) => Path.Combine(folder, key.Replace('/', Path.DirectorySeparatorChar));
}
