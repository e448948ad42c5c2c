namespace FuseChat.Grains.Runs;

/// <summary>One source model.</summary>
/// <param name="Name">Unique within the run (letters, digits, '.', '_', '-'; not "pivot"); names folders and grain keys.</param>
/// <param name="Path">Absolute Hugging Face model folder.</param>
public sealed record SourceSpec(string Name, string Path);
