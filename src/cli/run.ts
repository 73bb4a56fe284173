import { parseArgs } from 'node:util';
import type { Backend } from './backend.js';
import { COMMANDS, type Command, type OptionSpec } from './commands.js';
import { asCliError, CliError, EXIT, usage } from './errors.js';
import { HttpBackend } from './http-backend.js';
import type { Io } from './io.js';

/** What only the entry point can do: it alone may load the whole application (src/cli.ts). */
export interface Runtime {
  /** The application's services on the configured database (DATABASE_URL, DATA_DIR, ...). */
  openDatabase(): Promise<Backend>;
  /** Applies pending migrations; answers their names. */
  migrate(): Promise<string[]>;
}

const GLOBAL: Record<string, OptionSpec & { short?: string }> = {
  url: {
    type: 'string',
    description: "a running server's base URL (or IDP_URL); without it, the database",
  },
  key: { type: 'string', description: 'an operator API key for --url (or IDP_KEY)' },
  json: { type: 'boolean', description: 'print the result as JSON' },
  help: { type: 'boolean', short: 'h', description: 'show help' },
};

function optionLines(options: Record<string, OptionSpec>): string {
  return Object.entries(options)
    .map(
      ([name, o]) => `  --${name}${o.type === 'string' ? ' VALUE' : ''}`.padEnd(30) + o.description,
    )
    .join('\n');
}

export function mainHelp(): string {
  const left = COMMANDS.map((c) => `${c.name}${c.args.map((a) => ` <${a}>`).join('')}`);
  const width = Math.max(...left.map((l) => l.length)) + 2;
  const lines = COMMANDS.map((c, i) => `  ${left[i]!.padEnd(width)}${c.summary}`);
  return [
    'idp: operate the identity platform',
    '',
    'Usage: idp <command> [arguments] [options]',
    '',
    'Without --url the command works on the database the server uses (DATABASE_URL or the',
    'embedded one in DATA_DIR, with IDP_MASTER_KEY), for bootstrap and recovery. With --url and',
    "--key it calls the running server's management API with an operator key.",
    '',
    'Commands:',
    ...lines,
    '',
    'Global options:',
    optionLines(GLOBAL),
    '',
    'Exit codes: 0 ok, 1 failure, 2 usage, 3 not found, 4 conflict, 5 refused (key),',
    "6 unavailable, 7 invalid input. `idp <command> --help` shows a command's options.",
  ].join('\n');
}

function commandHelp(c: Command): string {
  return [
    `idp ${c.name}${c.args.map((a) => ` <${a}>`).join('')}`,
    '',
    `${c.summary}.`,
    ...(Object.keys(c.options).length ? ['', 'Options:', optionLines(c.options)] : []),
    '',
    'Global options:',
    optionLines(GLOBAL),
  ].join('\n');
}

/** The command named by the first one or two words. */
function findCommand(words: string[]): { command: Command; rest: string[] } | undefined {
  for (const take of [2, 1]) {
    const name = words.slice(0, take).join(' ');
    const command = COMMANDS.find((c) => c.name === name);
    if (command && words.length >= take) return { command, rest: words.slice(take) };
  }
  return undefined;
}

function write(stream: NodeJS.WritableStream, text: string) {
  if (text) stream.write(text.endsWith('\n') ? text : `${text}\n`);
}

/** Runs one command line; answers the exit code. Never throws. */
export async function run(argv: string[], io: Io, runtime: Runtime): Promise<number> {
  // Options may come anywhere: a loose first pass (every command's options) finds the words.
  const loose = parseArgs({
    args: argv,
    options: Object.fromEntries(
      [GLOBAL, ...COMMANDS.map((c) => c.options)].flatMap((o) =>
        Object.entries(o).map(([k, v]) => [k, { type: v.type }]),
      ),
    ),
    allowPositionals: true,
    strict: false,
  });
  const words = loose.positionals;
  const found = findCommand(words);
  const wantsJson = argv.includes('--json');
  if (!found) {
    if (argv.length === 0 || argv.includes('--help') || argv.includes('-h')) {
      write(io.stdout, mainHelp());
      return argv.length === 0 ? EXIT.usage : EXIT.ok;
    }
    write(io.stderr, `idp: unknown command "${words.slice(0, 2).join(' ')}"\n\n${mainHelp()}`);
    return EXIT.usage;
  }
  const { command } = found;
  let backend: Backend | undefined;
  try {
    const parsed = (() => {
      try {
        return parseArgs({
          args: argv,
          options: { ...GLOBAL, ...command.options },
          allowPositionals: true,
          strict: true,
        });
      } catch (error) {
        throw usage(`${(error as Error).message} (see idp ${command.name} --help)`);
      }
    })();
    const values = parsed.values as Record<string, string | boolean | undefined>;
    if (values.help) {
      write(io.stdout, commandHelp(command));
      return EXIT.ok;
    }
    const args = parsed.positionals.slice(command.name.split(' ').length);
    if (args.length !== command.args.length) {
      throw usage(
        `expected ${command.args.map((a) => `<${a}>`).join(' ') || 'no arguments'}: idp ${command.name} --help`,
      );
    }
    const url = (values.url as string | undefined) ?? io.env.IDP_URL;
    if (command.databaseOnly) {
      if (url) throw usage(`${command.name} works on the database only: drop --url`);
      const applied = await runtime.migrate();
      const text = applied.length ? `applied: ${applied.join(', ')}` : 'schema is up to date';
      write(io.stdout, wantsJson ? JSON.stringify({ applied }) : text);
      return EXIT.ok;
    }
    backend = url
      ? new HttpBackend(url, (values.key as string | undefined) ?? io.env.IDP_KEY)
      : await runtime.openDatabase();
    const outcome = await command.run({ backend, args, values, io });
    if (wantsJson) {
      if (outcome.json !== undefined) write(io.stdout, JSON.stringify(outcome.json, null, 2));
    } else {
      write(command.name === 'export' ? io.stderr : io.stdout, outcome.text);
    }
    return EXIT.ok;
  } catch (error) {
    const e = asCliError(error);
    if (wantsJson) {
      write(
        io.stderr,
        JSON.stringify({
          error: { message: e.message, exit_code: e.exitCode, details: e.details },
        }),
      );
    } else {
      write(io.stderr, `idp: ${e.message}`);
    }
    return e instanceof CliError ? e.exitCode : EXIT.failure;
  } finally {
    await backend?.close().catch(() => undefined);
  }
}
