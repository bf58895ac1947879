import { type LinkkitError, type Session, Topics } from '@linkkit/core'
import type { EventEmitter } from 'eventemitter3'
import { EchoFilter } from './echo-filter.js'
import type { ThingClientEvents } from './events.js'
import type { ResolvedThingClientOptions } from './options.js'
import type { ThingModel } from './tsl/index.js'
import { ValueStore } from './value-store.js'

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
  /** `/sys/{pk}/{dn}/thing/event/property/post`, built once: the same string object every post. */
  readonly propertyPostTopic: string
  /** Emits without letting a throwing listener escape into protocol code. */
  emit<K extends EventName>(event: K, ...args: EventArgs<K>): void
  /** Logs and emits `error`. */
  report(error: LinkkitError): void
}

/**
 * The context a `ThingClient` hands its parts. A class rather than an object literal with getters:
 * V8 keeps such a literal in dictionary mode (some 800 bytes), and a fleet holds one per device.
 * The client sets `thingModel` once it is compiled and `closed` when it closes.
 */
export class ClientContext implements ThingContext {
  thingModel: ThingModel | undefined = undefined
  closed = false
  readonly store = new ValueStore()
  readonly echoes = new EchoFilter()
  #propertyPostTopic: string | undefined

  constructor(
    readonly connection: Session,
    readonly options: ResolvedThingClientOptions,
    readonly logger: Logger,
    /** Emits without letting a throwing listener escape into protocol code. */
    readonly emit: ThingContext['emit'],
    /** Logs and emits `error`. */
    readonly report: (error: LinkkitError) => void,
  ) {}

  get propertyPostTopic(): string {
    this.#propertyPostTopic ??= Topics.propertyPost(this.connection)
    return this.#propertyPostTopic
  }
}
