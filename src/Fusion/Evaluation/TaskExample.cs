namespace FuseChat.Fusion.Evaluation;

/// <summary>One question of a task set and its expected answer.</summary>
public sealed record TaskExample(int LineNumber, string Prompt, string Answer);
