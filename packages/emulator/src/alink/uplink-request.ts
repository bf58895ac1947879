import type { LinkkitError } from '@linkkit/core'
import type { ProductTsl } from '../tsl/model.js'
import type { DeviceIdentity } from '../types.js'
import type { Answer } from './envelope.js'
import type { ThingJournal } from './thing-journal.js'
import type { ConfigPushParams, DeviceThingState } from './types.js'

/** The thing-model side of one device: its stored state and its product's model. */
export interface ThingDevice {
  identity: DeviceIdentity
  state: DeviceThingState
  model: ProductTsl | undefined
  /** Where changes of `state` are recorded (and shared with other nodes). */
  journal: ThingJournal
}

/** One readable Alink request from a device, handed to the handler of its topic. */
export interface UplinkRequest extends ThingDevice {
  topic: string
  params: unknown
  /** Arrival time, ms since the epoch. */
  now: number
  /** Reports values that were refused or dropped, with the code answered. */
  invalid(errors: LinkkitError[], code: number): void
  /** Another device whose data this connection may post (itself, or a gateway's sub-device). */
  lookup(identity: DeviceIdentity): Promise<ThingDevice | undefined>
  configOffer(productKey: string): ConfigPushParams | undefined
}

export type UplinkHandlerFn = (request: UplinkRequest) => Answer | Promise<Answer>
