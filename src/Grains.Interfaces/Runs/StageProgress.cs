namespace FuseChat.Grains.Interfaces.Runs;

/// <summary>Progress of one stage of a run.</summary>
/// <param name="Stage">The stage.</param>
/// <param name="Progress">Fraction done, 0 to 1 (mean over the stage's units of work).</param>
/// <param name="Detail">Human-readable detail, one entry per unit of work.</param>
[GenerateSerializer]
[Alias("FuseChat.StageProgress")]
public sealed record StageProgress([property: Id(0)] RunStage Stage, [property: Id(1)] double Progress, [property: Id(2)] string Detail);
