/**
 * A small hand-written command-line parser (no CLI library): `--name value`, `--name=value`, boolean
 * `--flag`, positionals, `-h/--help`. Every problem is a UsageError with a message naming the option and the
 * value, which main.ts prints with the command's usage and exit code 2.
 */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export type OptionType = 'string' | 'int' | 'number' | 'bool';

export interface OptionSpec {
  type: OptionType;
  help: string;
  default?: string | number | boolean;
  /** allowed values (strings) */
  choices?: readonly string[];
  /** numbers: inclusive lower bound */
  min?: number;
}

export interface CommandSpec {
  name: string;
  summary: string;
  /** positional arguments, in order */
  positionals: { name: string; required: boolean; help: string }[];
  options: Record<string, OptionSpec>;
}

export type ParsedOptions = Record<string, string | number | boolean | undefined>;

export interface Parsed {
  positionals: string[];
  opts: ParsedOptions;
  help: boolean;
}

function convert(cmd: string, name: string, spec: OptionSpec, raw: string): string | number | boolean {
  if (spec.type === 'string') {
    if (spec.choices && !spec.choices.includes(raw)) {
      throw new UsageError(`${cmd}: --${name} must be one of ${spec.choices.join(', ')}, got '${raw}'`);
    }
    return raw;
  }
  if (spec.type === 'bool') {
    if (raw === 'true') return true;
    if (raw === 'false') return false;
    throw new UsageError(`${cmd}: --${name} is a flag (true/false), got '${raw}'`);
  }
  const v = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(v)) throw new UsageError(`${cmd}: --${name} needs a number, got '${raw}'`);
  if (spec.type === 'int' && !Number.isInteger(v)) throw new UsageError(`${cmd}: --${name} needs an integer, got '${raw}'`);
  if (spec.min !== undefined && v < spec.min) throw new UsageError(`${cmd}: --${name} must be ≥ ${spec.min}, got ${raw}`);
  return v;
}

export function parseArgs(argv: string[], spec: CommandSpec): Parsed {
  const opts: ParsedOptions = {};
  for (const [k, s] of Object.entries(spec.options)) opts[k] = s.default;
  const positionals: string[] = [];
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '-h' || a === '--help') { help = true; continue; }
    if (a === '--') { positionals.push(...argv.slice(i + 1)); break; }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
      const s = spec.options[name];
      if (!s) {
        const known = Object.keys(spec.options).map((k) => `--${k}`).join(', ');
        throw new UsageError(`${spec.name}: unknown option '--${name}'${known ? ` (options: ${known})` : ''}`);
      }
      let raw: string;
      if (eq >= 0) raw = a.slice(eq + 1);
      else if (s.type === 'bool') raw = 'true';
      else {
        if (i + 1 >= argv.length || (argv[i + 1].startsWith('--') && argv[i + 1].length > 2)) {
          throw new UsageError(`${spec.name}: --${name} needs a value`);
        }
        raw = argv[++i];
      }
      opts[name] = convert(spec.name, name, s, raw);
      continue;
    }
    if (a.startsWith('-') && a.length > 1 && !/^-\d/.test(a)) throw new UsageError(`${spec.name}: unknown option '${a}'`);
    positionals.push(a);
  }
  if (!help) {
    if (positionals.length > spec.positionals.length) {
      throw new UsageError(`${spec.name}: unexpected argument '${positionals[spec.positionals.length]}'`);
    }
    spec.positionals.forEach((p, i) => {
      if (p.required && positionals[i] === undefined) throw new UsageError(`${spec.name}: missing <${p.name}> (${p.help})`);
    });
  }
  return { positionals, opts, help };
}

export function usage(spec: CommandSpec): string {
  const pos = spec.positionals.map((p) => (p.required ? `<${p.name}>` : `[${p.name}]`)).join(' ');
  const lines = [`usage: blt ${spec.name}${pos ? ' ' + pos : ''}${Object.keys(spec.options).length ? ' [options]' : ''}`, '', spec.summary, ''];
  for (const p of spec.positionals) lines.push(`  ${(p.required ? `<${p.name}>` : `[${p.name}]`).padEnd(26)} ${p.help}`);
  for (const [k, s] of Object.entries(spec.options)) {
    const arg = s.type === 'bool' ? `--${k}` : `--${k} ${s.type === 'string' ? (s.choices ? s.choices.join('|') : 'S') : 'N'}`;
    const def = s.default !== undefined && s.type !== 'bool' ? ` (default ${String(s.default)})` : '';
    lines.push(`  ${arg.padEnd(26)} ${s.help}${def}`);
  }
  return lines.join('\n');
}
