namespace FuseChat.Grains.Runs;

/// <summary>The pivot: the model every target starts from, and the chat template all models read.</summary>
/// <param name="Path">Absolute Hugging Face model folder.</param>
/// <param name="Template">A name from FuseChat.Fusion.Templates.ChatTemplates.Names.</param>
public sealed record PivotSpec(string Path, string Template);
