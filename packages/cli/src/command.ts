import type { OptionSpecs, ParsedOptions } from './args.js'
import type { CliIo } from './io.js'

/** One `linkkit` command (or subcommand): its options, its help and what it does. */
export interface Command {
  /** As typed: `emulator`, `ota add`. */
  name: string
  /** One line, shown in the command list. */
  summary: string
  /** The synopsis after `Usage:`, required options first. */
  usage: string
  /** A few lines on what it does and prints. */
  description: string
  options: OptionSpecs
  examples: readonly string[]
  /** Resolves with the exit code. */
  run(options: ParsedOptions, io: CliIo): Promise<number>
}

/** Commands sharing a first word (`linkkit ota add|push|status|cancel`). */
export interface CommandGroup {
  name: string
  summary: string
  commands: readonly Command[]
}

const NBSP = '\u00a0'
const HELP_OPTION = { flags: '-h, --help', text: 'show this help' }

export function commandHelp(command: Command): string {
  const rows = Object.entries(command.options).map(([name, spec]) => {
    const flags = `--${name}${spec.value ? ` <${spec.value}>` : ''}`
    const notes = [
      spec.required ? 'required' : undefined,
      spec.default !== undefined ? `default: ${spec.default}` : undefined,
      spec.env ? `env ${spec.env}` : undefined,
    ].filter((note) => note !== undefined)
    // The notes wrap as one word, so `(default: 5000)` is never split across lines.
    const note = notes.length > 0 ? ` (${notes.join('; ').replaceAll(' ', NBSP)})` : ''
    return { flags, text: `${spec.description}${note}` }
  })
  rows.push(HELP_OPTION)
  return [
    `Usage: ${command.usage}`,
    '',
    command.description,
    '',
    'Options:',
    ...table(rows),
    '',
    command.examples.length > 1 ? 'Examples:' : 'Example:',
    ...command.examples.map((example) => `  ${example}`),
    '',
  ].join('\n')
}

export function groupHelp(group: CommandGroup): string {
  return [
    `Usage: linkkit ${group.name} <command> [options]`,
    '',
    group.summary,
    '',
    'Commands:',
    ...table(group.commands.map((c) => ({ flags: c.name, text: c.summary }))),
    '',
    `Run 'linkkit ${group.name} <command> --help' for the options of one.`,
    '',
  ].join('\n')
}

/** Two aligned columns, the second wrapped under itself. */
export function table(rows: ReadonlyArray<{ flags: string; text: string }>): string[] {
  const width = Math.max(...rows.map((r) => r.flags.length)) + 2
  return rows.flatMap((row) => {
    const lines = wrap(row.text, Math.max(30, 100 - width - 2))
    return lines.map(
      (line, i) => `  ${(i === 0 ? row.flags : '').padEnd(width)}${line.replaceAll(NBSP, ' ')}`,
    )
  })
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = []
  let line = ''
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line)
      line = word
    } else line = line === '' ? word : `${line} ${word}`
  }
  lines.push(line)
  return lines
}
