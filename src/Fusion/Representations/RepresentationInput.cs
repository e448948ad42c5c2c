namespace FuseChat.Fusion.Representations;

/// <summary>One conversation as one model's tokens, ready for <see cref="RepresentationComputer"/>.</summary>
/// <param name="ConversationIndex">0-based index of the conversation in the data file (the output keeps it).</param>
/// <param name="Id">The conversation's id.</param>
/// <param name="Ids">Token ids of the pivot-template rendering under this model's tokenizer.</param>
/// <param name="Trained">Per token, whether it is a trained label (see <see cref="Templates.EncodedConversation"/>).</param>
public sealed record RepresentationInput(long ConversationIndex, string Id, int[] Ids, bool[] Trained);
