import { execFile, execFileSync } from 'node:child_process'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { Emulator } from '@linkkit/emulator'
import { describe, expect, it } from 'vitest'
import { isLinkkitError, MemoryPersistence } from '../../src/index.js'
import { device, image, nextOffer, open, ref, tempDir } from './trust-helpers.js'

const run = promisify(execFile)

function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

/**
 * The build pipeline of docs/ota.md ("Trust"), in plain shell: a key pair, the SHA-256 digest of
 * the image, its signature with `openssl pkeyutl`, base64 (wrapped, as `openssl base64` writes it).
 */
const PIPELINE = {
  ed25519: `set -e
openssl genpkey -algorithm ed25519 -out key.pem
openssl pkey -in key.pem -pubout -out key.pub
openssl dgst -sha256 -binary firmware.bin > firmware.sha256
openssl pkeyutl -sign -inkey key.pem -rawin -in firmware.sha256 -out firmware.sig
openssl base64 -in firmware.sig -out firmware.sig.b64`,
  'ecdsa-p256': `set -e
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out key.pem
openssl pkey -in key.pem -pubout -out key.pub
openssl dgst -sha256 -binary firmware.bin > firmware.sha256
openssl pkeyutl -sign -inkey key.pem -rawin -digest sha256 -in firmware.sha256 -out firmware.sig
openssl base64 -in firmware.sig -out firmware.sig.b64`,
} as const

describe.skipIf(!hasOpenssl())('interop: an image signed with openssl pkeyutl (shell, no Node)', () => {
  it.each(['ed25519', 'ecdsa-p256'] as const)(
    'verifies on the device (%s); a tampered copy does not',
    async (algorithm) => {
      await using tmp = await tempDir()
      const data = image(180_000, 70)
      await writeFile(join(tmp.path, 'firmware.bin'), data)
      await run('sh', ['-c', PIPELINE[algorithm]], { cwd: tmp.path })
      const publicPem = await readFile(join(tmp.path, 'key.pub'), 'utf8')
      const signature = await readFile(join(tmp.path, 'firmware.sig.b64'), 'utf8')

      await using emu = await Emulator.start({ devices: [device] })
      const persistence = new MemoryPersistence()
      await using d = await open(emu, { version: '1.0.0', persistence, trust: { keys: { ci: publicPem } } })
      const extData = { signature, signatureAlgorithm: algorithm, signatureKeyId: 'ci' }
      const firmware = await emu.ota.addFirmware({ ...ref, version: '2.0.0', data, extData })
      let offered = nextOffer(d)
      const job = await emu.ota.push({ ...ref, firmware })
      await expect(d.fota.download(await offered)).resolves.toMatchObject({ version: '2.0.0' })
      expect(Buffer.compare(persistence.bytes() ?? Buffer.alloc(0), data)).toBe(0)
      await d.fota.reportVersion('2.0.0')
      await emu.ota.waitForJob(job.id, 'succeeded')

      const tampered = Uint8Array.from(data)
      tampered[1000] = (tampered[1000] ?? 0) ^ 0xff
      const forged = await emu.ota.addFirmware({ ...ref, version: '2.0.1', data: tampered, extData })
      offered = nextOffer(d)
      await emu.ota.push({ ...ref, firmware: forged })
      const error = await d.fota.download(await offered).catch((e: unknown) => e)
      expect(isLinkkitError(error, 'ERR_SIGNATURE_INVALID')).toBe(true)
    },
  )
})
