namespace FuseChat.Silo.Api;

/// <summary>Body of POST /api/runs.</summary>
/// <param name="Spec">The run spec (YAML text).</param>
/// <param name="SpecDirectory">Folder that relative paths of the spec are resolved against, as the silo sees it.</param>
/// <param name="Id">Run id; generated from the spec's name and the time when absent.</param>
public sealed record StartRunRequest(string Spec, string SpecDirectory, string? Id = null);
