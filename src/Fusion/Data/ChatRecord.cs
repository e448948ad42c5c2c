using FuseChat.Fusion.Templates;

namespace FuseChat.Fusion.Data;

/// <summary>One conversation of a JSONL data file, with where it came from.</summary>
/// <param name="LineNumber">1-based line in the file.</param>
/// <param name="Id">The record's "id" field, or "line-N" when it has none.</param>
/// <param name="Conversation">The validated conversation.</param>
public sealed record ChatRecord(int LineNumber, string Id, Conversation Conversation);
