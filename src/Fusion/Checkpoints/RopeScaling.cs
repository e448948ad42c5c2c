namespace FuseChat.Fusion.Checkpoints;

/// <summary>
/// The rope_scaling entry of config.json. Only linear scaling (positions divided by
/// <see cref="Factor"/>) is supported; other types are rejected when the config is parsed.
/// </summary>
/// <param name="Type">The scaling type: "linear".</param>
/// <param name="Factor">Scaling factor, greater than zero.</param>
public sealed record RopeScaling(string Type, double Factor);
