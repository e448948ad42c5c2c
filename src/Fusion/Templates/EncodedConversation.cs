namespace FuseChat.Fusion.Templates;

/// <summary>
/// A rendered conversation as token ids with, per token, whether it is trained: Trained[t] says the
/// label of position t (token t as the gold next token) enters the loss.
/// </summary>
/// <param name="Ids">Token ids.</param>
/// <param name="Trained">One flag per id.</param>
public sealed record EncodedConversation(int[] Ids, bool[] Trained);
