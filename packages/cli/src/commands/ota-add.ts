import { readFile } from 'node:fs/promises'
import { basename, resolve } from 'node:path'
import type { Firmware } from '@linkkit/emulator'
import type { Command } from '../command.js'
import { CliError, ExitCode, UsageError } from '../errors.js'
import { Output } from '../io.js'
import { CONTROL_TOKEN_OPTION, controlClient, EMULATOR_OPTION, JSON_OPTION } from './ota-shared.js'

export const otaAdd: Command = {
  name: 'ota add',
  summary: 'Add a firmware package to a running emulator',
  usage: 'linkkit ota add --emulator <url> --product <pk> --version <v> --file <path> [options]',
  description: [
    'Uploads a firmware image to the emulator, which serves it over HTTP with its digest, and prints the',
    'firmware record; its id is what `linkkit ota push --firmware` takes.',
  ].join('\n'),
  options: {
    emulator: EMULATOR_OPTION,
    'control-token': CONTROL_TOKEN_OPTION,
    product: { type: 'string', value: 'pk', description: 'product key the firmware is for', required: true },
    version: {
      type: 'string',
      value: 'v',
      description: 'version of the firmware (1-64 characters)',
      required: true,
    },
    file: { type: 'string', value: 'path', description: 'the firmware image', required: true },
    module: { type: 'string', value: 'name', description: 'module the firmware is for', default: 'default' },
    'sign-method': {
      type: 'string',
      value: 'Md5|SHA256',
      description: 'digest sent with the offer',
      default: 'Md5',
    },
    json: { ...JSON_OPTION, description: 'print the firmware record as JSON' },
  },
  examples: [
    'linkkit ota add --emulator http://127.0.0.1:8080 --product a1LampDemo01 --version 1.1.0 --file ./fw-1.1.0.bin --sign-method SHA256',
  ],
  async run(options, io) {
    const out = new Output(io, options.flag('json'))
    const signMethod = options.required('sign-method')
    if (!/^(md5|sha256)$/i.test(signMethod)) {
      throw new UsageError(`--sign-method must be Md5 or SHA256, got '${signMethod}'`)
    }
    const client = controlClient(options, io)
    const path = resolve(io.cwd, options.required('file'))
    const data = await readFile(path).catch((error: NodeJS.ErrnoException) => {
      throw new CliError(`cannot read --file ${path} (${error.code ?? error.message})`)
    })
    const firmware = await client.post<Firmware>('firmware', {
      productKey: options.required('product'),
      version: options.required('version'),
      module: options.required('module'),
      signMethod,
      name: basename(path),
      dataBase64: data.toString('base64'),
    })
    out.data(firmware)
    out.text(
      `added firmware ${firmware.id}: ${firmware.productKey} ${firmware.version} (module ${firmware.module}), ` +
        `${firmware.size} bytes, ${firmware.signMethod} ${firmware.sign}`,
    )
    out.text(`url: ${firmware.url}`)
    return ExitCode.ok
  },
}
