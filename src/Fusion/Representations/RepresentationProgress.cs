namespace FuseChat.Fusion.Representations;

/// <summary>Progress of a representation pass.</summary>
/// <param name="ConversationsDone">Conversations finished (skipped shards included).</param>
/// <param name="ConversationsTotal">Conversations in the data file.</param>
/// <param name="TokensComputed">Tokens run through the model in this run (skipped shards excluded).</param>
/// <param name="ShardsDone">Shards completed, in this run or before.</param>
public readonly record struct RepresentationProgress(long ConversationsDone, long ConversationsTotal, long TokensComputed, int ShardsDone);
