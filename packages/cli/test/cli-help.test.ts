import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { cli } from './cli-helpers.js'

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string
}

/** Each command's help: its synopsis, some option lines (with defaults), and a runnable example. */
const HELP: Array<{ argv: string[]; lines: RegExp[] }> = [
  {
    argv: ['emulator', '--help'],
    lines: [
      /^Usage: linkkit emulator --config <devices\.json> \[options\]$/m,
      /^ {2}--config <path> +products, devices and TSL of the platform \(required\)$/m,
      /^ {2}--mqtt-port <port> +MQTT port, 0 for a free one/m,
      /--log-level <level> [\s\S]*?\(default: silent\)/,
      /^ {2}--json /m,
      /^ {2}linkkit emulator --config \.\/devices\.json/m,
    ],
  },
  {
    argv: ['ota', 'add', '--help'],
    lines: [
      /^Usage: linkkit ota add --emulator <url> --product <pk> --version <v> --file <path> \[options\]$/m,
      /--emulator <url> +HTTP URL of a running emulator[\s\S]*?\(required; env LINKKIT_EMULATOR\)/,
      /--sign-method <Md5\|SHA256> +digest sent with the offer \(default: SHA256 with --sign-key, else Md5\)/,
      /--module <name> .*\(default: default\)/,
      /^ {2}linkkit ota add --emulator http:\/\/127\.0\.0\.1:8080 --product/m,
    ],
  },
  {
    argv: ['ota', 'push', '-h'],
    lines: [
      /^Usage: linkkit ota push --emulator <url> --product <pk> --device <dn> --firmware <id> \[options\]$/m,
      /--firmware <id> +firmware id from `linkkit ota add` \(required\)/,
      /--src-version <v>/,
      /^ {2}linkkit ota push --emulator .* --firmware fw-1$/m,
    ],
  },
  {
    argv: ['ota', 'status', '--help'],
    lines: [
      /^Usage: linkkit ota status --emulator <url>/m,
      /--wait <status\[,status\]> +wait until the job has one of these statuses/,
      /--timeout <ms> .*\(default: 30000\)/,
      /Statuses: pending, pushed, upgrading, failed, succeeded, canceled\./,
      /--wait succeeded --timeout 60000$/m,
    ],
  },
  {
    argv: ['device', '--help'],
    lines: [
      /^Usage: linkkit device --product <pk> --device <dn> --secret <ds> --broker <url> \[options\]$/m,
      /--secret <ds> +device secret \(required; env LINKKIT_DEVICE_SECRET\)/,
      /--version <v> +firmware version running at start \(default: 1\.0\.0\)/,
      /--persistence <kind> +where firmware goes: memory .*file:<path>.*flash:<path>/s,
      /\(default: memory\)/,
      /--interval-ms <ms> +time between property posts \(default: 5000\)/,
      /--flash-slot-size <size> +size of each of the two slots of a flash[\s\S]*?\(default: 4 MiB\)/,
      /--allow-http /,
      /^ {2}linkkit device --product a1LampDemo01/m,
    ],
  },
]

describe('linkkit --help', () => {
  it('lists every command with its summary, the exit codes and an end-to-end example', async () => {
    const { code, stdout, stderr } = await cli(['--help'])
    expect([code, stderr]).toEqual([0, ''])
    expect(stdout).toMatch(/^Usage: linkkit <command> \[options\]$/m)
    for (const name of ['emulator', 'ota add', 'ota push', 'ota status', 'device']) {
      expect(stdout).toMatch(new RegExp(`^ {2}${name} +\\S`, 'm'))
    }
    expect(stdout).toMatch(/^Exit codes: 0 success, 1 failure at run time, 2 bad arguments/m)
    expect(stdout).toMatch(/^ {2}linkkit ota status .* --wait succeeded$/m)
  })

  it('prints the package version', async () => {
    expect(await cli(['--version'])).toEqual({ code: 0, stdout: `${pkg.version}\n`, stderr: '' })
  })

  it('lists the ota subcommands', async () => {
    const { code, stdout } = await cli(['ota', '--help'])
    expect(code).toBe(0)
    expect(stdout).toMatch(/^Usage: linkkit ota <command> \[options\]$/m)
    expect(stdout).toMatch(/^ {2}ota add +Add a firmware package/m)
    expect(stdout).toMatch(/^ {2}ota status +Show upgrade jobs/m)
    expect(stdout).toMatch(/^ {2}ota cancel +Cancel an upgrade job that has not ended$/m)
  })

  for (const { argv, lines } of HELP) {
    it(`linkkit ${argv.join(' ')} shows usage, options with defaults and an example`, async () => {
      const { code, stdout, stderr } = await cli(argv)
      expect([code, stderr]).toEqual([0, ''])
      for (const line of lines) expect(stdout).toMatch(line)
      expect(stdout).toMatch(/^ {2}-h, --help +show this help$/m)
      expect(stdout).toMatch(/^Examples?:$/m)
    })
  }

  it('shows help even when the other arguments are wrong', async () => {
    const { code, stdout } = await cli(['device', '--no-such-option', '--help'])
    expect(code).toBe(0)
    expect(stdout).toMatch(/^Usage: linkkit device /m)
  })
})
