namespace FuseChat.Grains.Interfaces.Runs;

/// <summary>A model folder to evaluate and the name it gets in the report.</summary>
/// <param name="Name">Name in the report, e.g. "pivot", "target-llama3", "fused".</param>
/// <param name="Folder">Absolute Hugging Face folder.</param>
[GenerateSerializer]
[Alias("FuseChat.EvaluatedModel")]
public sealed record EvaluatedModel([property: Id(0)] string Name, [property: Id(1)] string Folder);
