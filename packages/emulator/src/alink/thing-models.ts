import type { Logger } from 'pino'
import { MemoryStore, type StateStore, type StateTable } from '../state/store.js'
import { readTslFile, readTslObject, type ThingModelInput } from '../tsl/load.js'
import type { ProductTsl } from '../tsl/model.js'

/**
 * The thing model of each product. A document is read at once (a malformed one throws
 * `ERR_TSL_INVALID` to the caller); a path loads in the background and uplinks wait for it.
 * A model that failed to load makes the product's posts answer 6313, "TSL service not available".
 */
export class ThingModels {
  readonly #models = new Map<string, Promise<ProductTsl>>()
  readonly #logger: Logger
  readonly #table: StateTable<Record<string, unknown>>

  /** With scale-out, a model set on one node is the product's model on every node (as its rendered document). */
  constructor(logger: Logger, store: StateStore = new MemoryStore()) {
    this.#logger = logger
    this.#table = store.table('thing-models')
    this.#table.onChange((productKey, document) => {
      if (document === undefined) this.#models.delete(productKey)
      // #load logs a failure; nobody waits on another node's model but the uplinks that need it.
      else
        void this.#load(
          productKey,
          Promise.resolve().then(() => readTslObject(document)),
        )
    })
  }

  /** Sets (replaces) the product's model; resolves once it is usable. Throws at once for a bad document. */
  set(productKey: string, source: ThingModelInput): Promise<ProductTsl> {
    const model =
      typeof source === 'string' || source instanceof URL
        ? readTslFile(source)
        : Promise.resolve(readTslObject(source))
    model.then(
      (loaded) => this.#table.save(productKey, loaded.document(productKey)),
      () => {},
    )
    return this.#load(productKey, model)
  }

  #load(productKey: string, model: Promise<ProductTsl>): Promise<ProductTsl> {
    model.catch((error: unknown) =>
      this.#logger.error({ err: error, productKey }, 'thing model failed to load'),
    )
    this.#models.set(productKey, model)
    return model
  }

  delete(productKey: string): void {
    this.#models.delete(productKey)
  }

  /** The product's model, undefined when it has none; rejects when it failed to load. */
  get(productKey: string): Promise<ProductTsl | undefined> {
    return this.#models.get(productKey) ?? Promise.resolve(undefined)
  }

  /** Settles once every model set so far has loaded; rejects with the first failure. */
  async loaded(): Promise<void> {
    await Promise.all(this.#models.values())
  }
}
