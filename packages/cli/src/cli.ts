import { parseOptions, wantsHelp } from './args.js'
import { type Command, type CommandGroup, commandHelp, groupHelp, table } from './command.js'
import { deviceCommand } from './commands/device.js'
import { emulatorCommand } from './commands/emulator.js'
import { fleetCommand } from './commands/fleet.js'
import { keysGenerate } from './commands/keys-generate.js'
import { otaAdd } from './commands/ota-add.js'
import { otaCancel } from './commands/ota-cancel.js'
import { otaPush } from './commands/ota-push.js'
import { otaRollout } from './commands/ota-rollout.js'
import { otaStatus } from './commands/ota-status.js'
import { ExitCode, reasonOf, UsageError } from './errors.js'
import type { CliIo } from './io.js'
import { redactor } from './redact.js'
import { cliVersion } from './version.js'

const ota: CommandGroup = {
  name: 'ota',
  summary: 'Manage firmware upgrades on a running emulator (through its control API).',
  commands: [otaAdd, otaPush, otaStatus, otaCancel, otaRollout],
}

const keys: CommandGroup = {
  name: 'keys',
  summary: 'Firmware signing keys.',
  commands: [keysGenerate],
}

const entries: ReadonlyArray<Command | CommandGroup> = [
  emulatorCommand,
  ota,
  deviceCommand,
  fleetCommand,
  keys,
]

export function mainHelp(): string {
  const commands = entries.flatMap((e) => ('commands' in e ? [...e.commands] : [e]))
  return [
    `linkkit ${cliVersion()}: a local Link Kit platform, firmware upgrades through it, and a simulated device.`,
    '',
    'Usage: linkkit <command> [options]',
    '',
    'Commands:',
    ...table(commands.map((c) => ({ flags: c.name, text: c.summary }))),
    '',
    'Options:',
    ...table([
      {
        flags: '-h, --help',
        text: "show help; after a command, that command's help (linkkit ota add --help)",
      },
      { flags: '-v, --version', text: 'print the version' },
    ]),
    '',
    'Example: one upgrade, end to end (each command in its own terminal or script step)',
    '  linkkit emulator --config devices.json --mqtt-port 1883 --http-port 8080',
    '  export LINKKIT_CONTROL_TOKEN=<the control token it printed>',
    '  export LINKKIT_DEVICE_SECRET=<the device secret>   (kept off the command line)',
    '  linkkit device --product a1LampDemo01 --device lamp-0001 --broker mqtt://127.0.0.1:1883 --allow-http',
    '  head -c 300000 /dev/urandom > fw.bin   (any file serves as a firmware image)',
    '  linkkit ota add --emulator http://127.0.0.1:8080 --product a1LampDemo01 --version 1.1.0 --file fw.bin',
    '  linkkit ota push --emulator http://127.0.0.1:8080 --product a1LampDemo01 --device lamp-0001 --firmware fw-1',
    '  linkkit ota status --emulator http://127.0.0.1:8080 --device lamp-0001 --wait succeeded',
    '',
    'Exit codes: 0 success, 1 failure at run time, 2 bad arguments (the reason is one line on stderr).',
    '',
  ].join('\n')
}

/** Runs one command line and resolves with the exit code; never throws. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const redact = redactor(argv)
  let name = 'linkkit'
  try {
    const [first, second] = argv
    if (first === undefined) throw new UsageError('missing command')
    if (first === '--help' || first === '-h' || first === 'help') return print(io, mainHelp())
    if (first === '--version' || first === '-v') return print(io, `${cliVersion()}\n`)
    const entry = entries.find((e) => e.name === first)
    if (entry === undefined) throw new UsageError(unknownWord(first))
    let command: Command
    let rest: readonly string[]
    if ('commands' in entry) {
      name = `linkkit ${entry.name}`
      if (second === undefined || second === '--help' || second === '-h') {
        if (second === undefined)
          throw new UsageError(
            `missing command: ${entry.commands.map((c) => c.name.split(' ')[1]).join('|')}`,
          )
        return print(io, groupHelp(entry))
      }
      const found = entry.commands.find((c) => c.name === `${entry.name} ${second}`)
      if (found === undefined) throw new UsageError(unknownWord(second))
      command = found
      rest = argv.slice(2)
    } else {
      command = entry
      rest = argv.slice(1)
    }
    name = `linkkit ${command.name}`
    if (wantsHelp(rest)) return print(io, commandHelp(command))
    return await command.run(parseOptions(command.options, rest, io.env), io)
  } catch (error) {
    const usage = error instanceof UsageError
    const hint = usage ? ` (see '${name} --help')` : ''
    io.stderr.write(`${name}: ${redact(reasonOf(error))}${hint}\n`)
    return usage ? ExitCode.usage : ExitCode.failure
  }
}

/** Where a command was expected: `--verbose` is an unknown option, `launch` an unknown command. */
function unknownWord(word: string): string {
  return word.startsWith('-') ? `unknown option ${word.split('=')[0]}` : `unknown command '${word}'`
}

function print(io: CliIo, text: string): number {
  io.stdout.write(text)
  return ExitCode.ok
}
