import { rm, writeFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import type { Command } from '../command.js'
import { CliError, ExitCode, UsageError } from '../errors.js'
import { Output } from '../io.js'
import { generateSigningKeys, type KeyAlgorithm } from '../signing.js'

export const keysGenerate: Command = {
  name: 'keys generate',
  summary: 'Write a firmware signing key pair (<out>.pem private, <out>.pub public)',
  usage: 'linkkit keys generate [--out <prefix>] [--algorithm ed25519|ecdsa-p256] [options]',
  description: [
    'Generates a key pair for signing firmware images: the private key (PKCS#8 PEM, mode 0600) signs',
    'in the build pipeline (`linkkit ota add --sign-key`), the public key (SPKI PEM) goes to devices',
    '(`firmware.trust`, `linkkit device --trust`). Existing files are never overwritten.',
  ].join('\n'),
  options: {
    out: {
      type: 'string',
      value: 'prefix',
      description: 'path of both files, without extension',
      default: 'firmware-key',
    },
    algorithm: {
      type: 'string',
      value: 'ed25519|ecdsa-p256',
      description: 'signature algorithm',
      default: 'ed25519',
    },
    json: { type: 'boolean', description: 'print the paths as JSON' },
  },
  examples: ['linkkit keys generate --out ./keys/k1 --algorithm ecdsa-p256'],
  async run(options, io) {
    const out = new Output(io, options.flag('json'))
    const algorithm = options.required('algorithm')
    if (algorithm !== 'ed25519' && algorithm !== 'ecdsa-p256') {
      throw new UsageError(`--algorithm must be ed25519 or ecdsa-p256, got '${algorithm}'`)
    }
    const prefix = resolve(io.cwd, options.required('out'))
    const { privatePem, publicPem } = generateSigningKeys(algorithm as KeyAlgorithm)
    const privatePath = `${prefix}.pem`
    const publicPath = `${prefix}.pub`
    const write = (path: string, text: string, mode: number) =>
      writeFile(path, text, { mode, flag: 'wx' }).catch((error: NodeJS.ErrnoException) => {
        throw new CliError(
          error.code === 'EEXIST'
            ? `${path} exists: choose another --out`
            : `cannot write ${path} (${error.code ?? error.message})`,
        )
      })
    await write(publicPath, publicPem, 0o644)
    // Neither file is left alone: a private key without its public half is no use to anyone.
    await write(privatePath, privatePem, 0o600).catch(async (error: unknown) => {
      await rm(publicPath, { force: true })
      throw error
    })
    out.data({ algorithm, privateKey: privatePath, publicKey: publicPath })
    out.text(`wrote ${algorithm} private key ${privatePath} (keep it secret) and public key ${publicPath}`)
    return ExitCode.ok
  },
}
