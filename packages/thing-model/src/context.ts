import type { LinkkitError, Session } from '@linkkit/core'
import type { EventEmitter } from 'eventemitter3'
import type { EchoFilter } from './echo-filter.js'
import type { ThingClientEvents } from './events.js'
import type { ResolvedThingClientOptions } from './options.js'
import type { ThingModel } from './tsl/index.js'
import type { ValueStore } from './value-store.js'

/** The core's pino logger type, without a direct dependency on pino. */
export type Logger = Session['logger']

export type EventName = EventEmitter.EventNames<ThingClientEvents>
export type EventArgs<K extends EventName> = EventEmitter.EventArgs<ThingClientEvents, K>

/** What the parts of a `ThingClient` share. */
export interface ThingContext {
  readonly connection: Session
  readonly options: ResolvedThingClientOptions
  readonly logger: Logger
  /** The model values are checked against, once compiled (a file is loaded by `start()`). */
  readonly thingModel: ThingModel | undefined
  /** Last value of each property the device posted or accepted from a set (answers property get). */
  readonly store: ValueStore
  readonly echoes: EchoFilter
  readonly closed: boolean
  /** Emits without letting a throwing listener escape into protocol code. */
  emit<K extends EventName>(event: K, ...args: EventArgs<K>): void
  /** Logs and emits `error`. */
  report(error: LinkkitError): void
}
