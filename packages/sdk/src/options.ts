import {
  type ConnectionOptions,
  nonEmptyStringRule,
  objectRule,
  type RegisterOptions,
  refusedOption,
  requireOption,
} from '@linkkit/core'
import type { FotaOptions } from '@linkkit/fota'
import type { ThingModel, ThingModelSource } from '@linkkit/thing-model'

/** Options of `linkkit.open()`. Only the identity is required; everything else has a default. */
export interface LinkkitOptions extends Omit<ConnectionOptions, 'deviceSecret'> {
  /** The device's secret. Omit it and set `productSecret` + `dynamicRegister` to obtain one at `connect()`. */
  deviceSecret?: string
  /** The product's secret, for dynamic registration ("one product one secret"). */
  productSecret?: string
  /** Register the device with `productSecret` when it has no `deviceSecret`. @default false */
  dynamicRegister?: boolean
  /** How to register. @default { transport: 'https' } */
  register?: Pick<
    RegisterOptions,
    'transport' | 'registerUrl' | 'allowHttp' | 'timeoutMs' | 'signMethod' | 'tls'
  >
  /** The thing model (TSL) as an object, a compiled ThingModel or a path to a JSON file; enables validation. */
  thingModel?: ThingModelSource | ThingModel
  /** Firmware version, persistence adapter and OTA policy. */
  firmware?: FotaOptions
  /**
   * Receive sync services over `/ext/rrpc/…` (clientId `ext=1`, docs/protocol.md §1.5) in addition to the legacy
   * `/sys/…/rrpc/request/…`. @default true
   */
  extRrpc?: boolean
}

export function assertOpenOptions(options: LinkkitOptions): void {
  requireOption(options, 'options', objectRule)
  const hasSecret = nonEmptyStringRule.test(options.deviceSecret)
  if (!hasSecret && !(options.dynamicRegister === true && typeof options.productSecret === 'string')) {
    throw refusedOption(
      'deviceSecret',
      'is missing: give it, or productSecret with dynamicRegister: true to register the device',
    )
  }
}
