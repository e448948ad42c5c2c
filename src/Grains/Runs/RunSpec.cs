namespace FuseChat.Grains.Runs;

/// <summary>
/// A fusion run as the user describes it (YAML, see <see cref="RunSpecValidator"/>), with every path made
/// absolute against the spec's folder. Build one with <see cref="RunSpecValidator.Validate"/>.
/// </summary>
public sealed record RunSpec
{
    /// <summary>The run's name (letters, digits, '.', '_', '-').</summary>
    public required string Name { get; init; }

    /// <summary>The pivot model.</summary>
    public required PivotSpec Pivot { get; init; }

    /// <summary>The source models, at least one, with distinct names.</summary>
    public required IReadOnlyList<SourceSpec> Sources { get; init; }

    /// <summary>Training and evaluation data.</summary>
    public required DataSpec Data { get; init; }

    /// <summary>Stage 1 settings.</summary>
    public RepresentationSpec Representation { get; init; } = new();

    /// <summary>Stage 2 settings.</summary>
    public AlignmentSpec Alignment { get; init; } = new();

    /// <summary>Stage 3 settings.</summary>
    public TrainingSpec Training { get; init; } = new();

    /// <summary>Stage 4 settings.</summary>
    public MergeSpec Merge { get; init; } = new();

    /// <summary>The output folder (work/, fused/, report.json, report.md).</summary>
    public required string OutputFolder { get; init; }
}
