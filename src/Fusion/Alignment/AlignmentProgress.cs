namespace FuseChat.Fusion.Alignment;

/// <summary>Progress of an alignment run: the pass (1 statistics, 2 distributions) and conversations done in it.</summary>
public sealed record AlignmentProgress(int Pass, long Done, long Total);
