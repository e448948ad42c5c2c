namespace FuseChat.Grains.Runs;

/// <summary>The run's data files (absolute paths).</summary>
/// <param name="Train">Training chats, JSONL (ShareGPT or OpenAI messages).</param>
/// <param name="EvalChats">Held-out chats for perplexity; when neither this nor <paramref name="EvalTasks"/> is given, the training chats are used.</param>
/// <param name="EvalTasks">Task set (JSONL prompt/answer) for exact-match accuracy.</param>
public sealed record DataSpec(string Train, string? EvalChats, string? EvalTasks);
