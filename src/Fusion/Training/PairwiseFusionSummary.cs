namespace FuseChat.Fusion.Training;

/// <summary>What a pairwise fusion did.</summary>
/// <param name="Steps">Optimiser steps in total.</param>
/// <param name="Conversations">Conversations per epoch.</param>
/// <param name="SourceSelected">Conversations whose target was the source's (MinCE).</param>
/// <param name="LastStep">The last step's log, null when no step ran in this call.</param>
/// <param name="ResumedFrom">The checkpoint this call resumed from, if any.</param>
/// <param name="ResumedAtStep">The step that checkpoint holds (0 when the call started from the pivot).</param>
public sealed record PairwiseFusionSummary(long Steps, int Conversations, int SourceSelected, FusionStepLog? LastStep, string? ResumedFrom, long ResumedAtStep = 0);
