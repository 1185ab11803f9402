/** One `livecycle <name>` subcommand; local/cli.ts dispatches to these. */
export interface Command {
  name: string;
  /** One line for `livecycle --help`. */
  summary: string;
  /** Full text for `livecycle <name> --help`. */
  usage: string;
  /** Returns the process exit code (0 ok, 1 failure, 2 usage error). */
  run(argv: string[]): Promise<number>;
}
