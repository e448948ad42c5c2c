using FuseChat.Grains.Interfaces.Runs;

namespace FuseChat.Silo.Api;

/// <summary>One line of GET /api/runs.</summary>
public sealed record RunSummary(string Id, RunState State, RunStage? CurrentStage, string? FailureReason);
