/**
 * `livecycle <command> [args]`. Bundled to dist/cli.js (bin/livecycle.js points there).
 * To add a command: write `local/commands/<name>.ts` exporting a `Command`, import it here and
 * append it to COMMANDS; `--help` lists it from its `summary`.
 */
import { channelsCommand } from './commands/channels';
import { cleanupCommand } from './commands/cleanup';
import { costCommand } from './commands/cost';
import { driftCommand } from './commands/drift';
import { emulatorCommand } from './commands/emulator';
import { invokeCommand } from './commands/invoke';
import { playCommand } from './commands/play';
import { pushCommand } from './commands/push';
import { signRequestCommand } from './commands/sign-request';
import { startCommand } from './commands/start';
import type { Command } from './commands/types';

const COMMANDS: Command[] = [
  startCommand,
  emulatorCommand,
  pushCommand,
  playCommand,
  invokeCommand,
  channelsCommand,
  cleanupCommand,
  costCommand,
  driftCommand,
  signRequestCommand,
];

function help(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'Usage: livecycle <command> [options]',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    "Run `livecycle <command> --help` for a command's options.",
  ].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${help()}\n`);
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    process.stderr.write(
      `livecycle: unknown command "${name}". Known: ${COMMANDS.map((c) => c.name).join(', ')}. Try \`livecycle --help\`.\n`,
    );
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`${command.usage}\n`);
    return 0;
  }
  return command.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`livecycle: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
