namespace FuseChat.Fusion.Templates;

/// <summary>
/// A piece of rendered chat text. <see cref="Trained"/> marks text whose tokens get a loss (assistant
/// replies and the end-of-turn marker closing them); <see cref="IsBos"/> marks the template's
/// beginning-of-sequence token, which <see cref="ChatEncoder"/> replaces by the encoding tokenizer's own.
/// </summary>
/// <param name="Text">The text.</param>
/// <param name="Trained">Whether the tokens of this text are trained (their labels are used).</param>
/// <param name="IsBos">Whether this is the BOS token (never trained).</param>
public sealed record ChatSegment(string Text, bool Trained, bool IsBos = false);
