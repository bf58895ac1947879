import type { FotaOptions } from './fota-options.js'
import { assertVersion } from './progress.js'
import type { FirmwareOffer, FirmwarePersistence } from './types.js'

/**
 * The firmware modules a device declared (`FotaOptions`): the version each runs, informed at
 * every connection, and the adapter its images go to. `default` is the whole device firmware.
 */
export class FirmwareModules {
  readonly #options: FotaOptions
  readonly #versions = new Map<string, string>()

  /** Throws `ERR_INVALID_ARGUMENT` for a version that is not 1–64 printable characters. */
  constructor(options: FotaOptions) {
    this.#options = options
    if (options.version !== undefined) this.#versions.set('default', assertVersion(options.version))
    for (const [module, fw] of Object.entries(options.modules ?? {})) {
      if (fw.version !== undefined) this.#versions.set(module, assertVersion(fw.version))
    }
  }

  /** The version a module runs, as last configured or reported. */
  version(module = 'default'): string | undefined {
    return this.#versions.get(module)
  }

  /** Records the version a module runs now. */
  setVersion(module: string, version: string): void {
    this.#versions.set(module, assertVersion(version))
  }

  /** Every `[module, version]` known. */
  versions(): Iterable<readonly [string, string]> {
    return this.#versions.entries()
  }

  /** A named module with no entry in `modules`: the device cannot know where its image goes. */
  undeclared(offer: FirmwareOffer): boolean {
    return offer.module !== undefined && !Object.hasOwn(this.#options.modules ?? {}, offer.module)
  }

  /** Every configured adapter by module name (`default` for the whole device firmware). */
  *adapters(): Iterable<readonly [string, FirmwarePersistence]> {
    if (this.#options.persistence !== undefined) yield ['default', this.#options.persistence]
    for (const [module, fw] of Object.entries(this.#options.modules ?? {})) {
      if (fw.persistence !== undefined) yield [module, fw.persistence]
    }
  }

  /** Where images of `module` (undefined: the default one) go, when configured. */
  persistenceFor(module: string | undefined): FirmwarePersistence | undefined {
    if (module === undefined) return this.#options.persistence
    return this.#options.modules?.[module]?.persistence
  }
}
