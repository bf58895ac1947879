import { readFile } from 'node:fs/promises'
import { basename, resolve } from 'node:path'
import type { Firmware } from '@linkkit/emulator'
import type { Command } from '../command.js'
import { CliError, ExitCode, UsageError } from '../errors.js'
import { Output } from '../io.js'
import { signatureExtData, signingKey } from '../signing.js'
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
      description: 'digest sent with the offer (default: SHA256 with --sign-key, else Md5)',
    },
    'sign-key': {
      type: 'string',
      value: 'path',
      description:
        'sign the image here with this private key (PEM, Ed25519 or P-256); the key never leaves this machine',
    },
    'key-id': {
      type: 'string',
      value: 'id',
      description: 'the id devices know the signing key by (with --sign-key)',
    },
    'security-version': {
      type: 'string',
      value: 'n',
      description: 'anti-rollback counter of the image (extData.securityVersion)',
    },
    json: { ...JSON_OPTION, description: 'print the firmware record as JSON' },
  },
  examples: [
    'linkkit ota add --emulator http://127.0.0.1:8080 --product a1LampDemo01 --version 1.1.0 --file ./fw-1.1.0.bin --sign-method SHA256',
    'linkkit ota add --emulator http://127.0.0.1:8080 --product a1LampDemo01 --version 1.2.0 --file ./fw-1.2.0.bin \\',
    '  --sign-key ./keys/k1.pem --key-id k1 --security-version 3',
  ],
  async run(options, io) {
    const out = new Output(io, options.flag('json'))
    const signMethod = options.string('sign-method')
    if (signMethod !== undefined && !/^(md5|sha256)$/i.test(signMethod)) {
      throw new UsageError(`--sign-method must be Md5 or SHA256, got '${signMethod}'`)
    }
    const securityVersion = options.integer('security-version', 0, 0xffff_ffff)
    const keyPath = options.string('sign-key')
    const keyId = options.string('key-id')
    if ((keyPath === undefined) !== (keyId === undefined)) {
      throw new UsageError('--sign-key and --key-id go together')
    }
    const client = controlClient(options, io)
    const productKey = options.required('product')
    const { devices } = await client.get<{ devices: Array<{ productKey: string }> }>('devices')
    if (!devices.some((d) => d.productKey === productKey)) {
      throw new CliError(`unknown product ${productKey}: the emulator has no device of it (see --config)`)
    }
    const path = resolve(io.cwd, options.required('file'))
    const data = await readFile(path).catch((error: NodeJS.ErrnoException) => {
      throw new CliError(`cannot read --file ${path} (${error.code ?? error.message})`)
    })
    let extData: Record<string, string> | undefined
    if (keyPath !== undefined && keyId !== undefined) {
      const keyFile = resolve(io.cwd, keyPath)
      const pem = await readFile(keyFile, 'utf8').catch((error: NodeJS.ErrnoException) => {
        throw new CliError(`cannot read --sign-key ${keyFile} (${error.code ?? error.message})`)
      })
      extData = signatureExtData(data, signingKey(pem, `--sign-key ${keyFile}`), keyId)
    }
    const firmware = await client.post<Firmware>('firmware', {
      productKey,
      version: options.required('version'),
      module: options.required('module'),
      ...(signMethod === undefined ? {} : { signMethod }),
      name: basename(path),
      dataBase64: data.toString('base64'),
      ...(extData === undefined ? {} : { extData }),
      ...(securityVersion === undefined ? {} : { securityVersion }),
    })
    out.data(firmware)
    out.text(
      `added firmware ${firmware.id}: ${firmware.productKey} ${firmware.version} (module ${firmware.module}), ` +
        `${firmware.size} bytes, ${firmware.signMethod} ${firmware.sign}`,
    )
    if (extData !== undefined) out.text(`signed: ${extData.signatureAlgorithm}, key id ${keyId}`)
    if (securityVersion !== undefined) out.text(`security version: ${securityVersion}`)
    out.text(`url: ${firmware.url}`)
    return ExitCode.ok
  },
}
