using System.CommandLine;
using FuseChat.Client.Commands;

var root = new RootCommand("fusechat: fuse chat LLMs of different architectures and tokenizers (FuseChat method).");
root.Subcommands.Add(DemoCommand.Create());
root.Subcommands.Add(DemoCommand.CreateTraining());
root.Subcommands.Add(InfoCommand.Create());
root.Subcommands.Add(InspectCommand.Create());
root.Subcommands.Add(TokenizeCommand.Create());
root.Subcommands.Add(MergeCommand.Create());
root.Subcommands.Add(GenerateCommand.Create());
root.Subcommands.Add(EvaluateCommand.Create());
root.Subcommands.Add(PlanCommand.Create());
root.Subcommands.Add(RepresentCommand.Create());
root.Subcommands.Add(AlignCommand.Create());
root.Subcommands.Add(FuseCommand.Create());
root.Subcommands.Add(SiloCommand.Create());
foreach (var command in RunCommands.Create()) root.Subcommands.Add(command);
foreach (var command in ArtifactCommands.Create()) root.Subcommands.Add(command);
// Ctrl+C and SIGTERM cancel the running verb; System.CommandLine's default then kills the process after 2 s, which
// cuts short a silo's graceful stop (grains deactivate, workers stop at a checkpoint, the silo leaves the membership).
// 50 s stays inside the pods' terminationGracePeriodSeconds (60); a verb that stops sooner exits sooner.
return root.Parse(args).Invoke(new InvocationConfiguration { ProcessTerminationTimeout = TimeSpan.FromSeconds(50) });
