import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { FilePersistence } from '../src/persistence/file.js'
import { FlashSimPersistence } from '../src/persistence/flash-sim.js'
import { MemoryPersistence } from '../src/persistence/memory.js'
import { makeFirmware } from '../src/testing/firmware-fixture.js'
import { runPersistenceContract } from '../src/testing/persistence-contract.js'

const tempDir = () => mkdtemp(join(tmpdir(), 'linkkit-persistence-'))

runPersistenceContract(
  'MemoryPersistence',
  async () => {
    const adapter = new MemoryPersistence()
    return {
      adapter,
      readCommitted: async () => adapter.bytes(),
      readCommittedFile: async (name) => adapter.bytes(name),
      cleanup: async () => undefined,
    }
  },
  { multiFile: true },
)

const readOrUndefined = (path: string) =>
  readFile(path).then(
    (bytes) => new Uint8Array(bytes),
    (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined
      throw error
    },
  )

runPersistenceContract(
  'FilePersistence',
  async () => {
    const dir = await tempDir()
    const path = join(dir, 'ota.bin')
    let adapter = new FilePersistence({ path })
    return {
      adapter,
      readCommitted: () => readOrUndefined(path),
      restart: async () => {
        await adapter.close()
        adapter = new FilePersistence({ path })
        return adapter
      },
      cleanup: async () => {
        await adapter.close()
        await rm(dir, { recursive: true, force: true })
      },
    }
  },
  { resume: true },
)

runPersistenceContract(
  'FilePersistence({ dir })',
  async () => {
    const dir = await tempDir()
    let adapter = new FilePersistence({ dir })
    return {
      adapter,
      readCommitted: () => readOrUndefined(join(dir, 'firmware.bin')),
      readCommittedFile: (name) => readOrUndefined(join(dir, name)),
      restart: async () => {
        await adapter.close()
        adapter = new FilePersistence({ dir })
        return adapter
      },
      cleanup: async () => {
        await adapter.close()
        await rm(dir, { recursive: true, force: true })
      },
    }
  },
  { resume: true, multiFile: true },
)

runPersistenceContract(
  'FlashSimPersistence',
  async () => {
    const dir = await tempDir()
    const options = { path: join(dir, 'flash.bin'), sectorSizeBytes: 4096, slotSizeBytes: 64 * 1024 }
    const factory = makeFirmware({ size: 30_000, seed: 99, version: '1.0.0' })
    let adapter = await FlashSimPersistence.provision({
      ...options,
      image: { version: '1.0.0', data: factory.data },
    })
    return {
      adapter,
      readCommitted: async () => (await adapter.readStaged())?.bytes,
      restart: async () => {
        await adapter.close()
        adapter = new FlashSimPersistence(options)
        return adapter
      },
      cleanup: async () => {
        await adapter.close()
        await rm(dir, { recursive: true, force: true })
      },
    }
  },
  // The spare slot is the only place a download can go, so a failed one erases a staged image.
  { resume: true, keepsCommittedOnFailure: false },
)
