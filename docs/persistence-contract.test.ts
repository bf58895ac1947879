import { runPersistenceContract } from '@linkkit/fota/testing'
import {
  type FirmwareImage,
  type FirmwarePersistence,
  LinkkitError,
  type PersistenceOutcome,
} from '@linkkit/sdk'

/** A key-value store, standing for a device's KV or partition API. */
type KvStore = Map<string, Uint8Array>

/**
 * Keeps the verified image under the key `firmware` of a KV store. The image being received stays
 * in memory and replaces the stored one in a single `set`, and only once verified, so a failed
 * download never touches the committed image. One key holds one image, so a multi-file offer is
 * refused at its first `start`, before any byte (the platform sees step -4).
 */
export class KvPersistence implements FirmwarePersistence {
  #chunks: Uint8Array[] = []
  #held = 0
  #image: FirmwareImage | undefined

  constructor(readonly store: KvStore) {}

  start(image: FirmwareImage, offset: number): void {
    if ((image.files?.length ?? 0) > 1) {
      throw new LinkkitError('ERR_PERSISTENCE', 'this store holds one image', {
        details: { reason: 'multi-file' },
      })
    }
    if (offset !== 0) throw new LinkkitError('ERR_PERSISTENCE', 'this store cannot resume')
    this.#image = image
    this.#chunks = []
    this.#held = 0
  }

  write(chunk: Uint8Array, offset: number): void {
    if (this.#image === undefined) throw new LinkkitError('ERR_PERSISTENCE_WRITE', 'write before start')
    if (offset !== this.#held) {
      throw new LinkkitError('ERR_PERSISTENCE_WRITE', `write at ${offset}, ${this.#held} bytes are held`)
    }
    this.#chunks.push(new Uint8Array(chunk)) // a copy: the caller may reuse its buffer
    this.#held += chunk.length
  }

  stop(outcome: PersistenceOutcome): void {
    const image = this.#image
    this.#image = undefined
    if (!outcome.ok) return // interrupted or refused: this store cannot resume, so both discard
    if (image === undefined || this.#held !== image.size) {
      throw new LinkkitError('ERR_PERSISTENCE', 'nothing complete to commit')
    }
    this.store.set('firmware', Buffer.concat(this.#chunks))
  }
}

runPersistenceContract('KvPersistence', async () => {
  const store: KvStore = new Map()
  return {
    adapter: new KvPersistence(store),
    readCommitted: async () => store.get('firmware'),
    cleanup: async () => store.clear(),
  }
})
