namespace FuseChat.Grains.Planning;

/// <summary>One model of a run and the training data as its tokenizer sees it.</summary>
/// <param name="Name">"pivot" or the source's name.</param>
/// <param name="Architecture">The architecture named in its config.json.</param>
/// <param name="Parameters">Every parameter (tied embeddings once).</param>
/// <param name="ActiveParameters">The parameters one token passes through (fewer in a mixture of experts).</param>
/// <param name="Vocabulary">Its vocabulary size.</param>
/// <param name="Tokens">Tokens of the training data under its tokenizer, cut at its longest sequence.</param>
/// <param name="TrainedTokens">The positions that are trained (their next token is an assistant's).</param>
/// <param name="Truncated">Conversations longer than the model takes.</param>
/// <param name="LongestConversation">Tokens of the longest conversation after the cut.</param>
public sealed record ModelCost(string Name, string Architecture, long Parameters, long ActiveParameters, int Vocabulary, long Tokens, long TrainedTokens,
    int Truncated, int LongestConversation);
