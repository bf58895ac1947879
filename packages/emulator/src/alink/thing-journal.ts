import { MemoryStore, type StateLog, type StateStore, type StateTable } from '../state/store.js'
import type { DeviceIdentity } from '../types.js'
import { MAX_EVENTS, MAX_RAW_UPLINKS, pushBounded } from './thing-state.js'
import type { DeviceThingState, RawUplink, ReportedEvent } from './types.js'

/** The parts of a device's thing state that are records (the others are histories). */
export type ThingFacet = 'properties' | 'desired' | 'tags'

/** A raw uplink as stored: its bytes in base64. */
interface StoredRaw {
  payloadBase64: string
  time: number
}

function key(identity: DeviceIdentity): string {
  return `${identity.productKey}/${identity.deviceName}`
}

/**
 * Hands the thing state devices report (and desired values the cloud sets) to the state store,
 * and applies what other nodes stored, so that `emu.device()` shows the same on every node and a
 * device reads its desired values wherever they were set.
 */
export class ThingJournal {
  readonly #tables: Record<ThingFacet, StateTable<Record<string, unknown>>>
  readonly #events: StateLog<ReportedEvent>
  readonly #raw: StateLog<StoredRaw>

  /** `state(pk/dn)`: the device's thing state, or undefined for a device this node does not know. */
  constructor(store: StateStore = new MemoryStore(), state: (key: string) => DeviceThingState | undefined) {
    this.#tables = {
      properties: store.table('thing-properties'),
      desired: store.table('thing-desired'),
      tags: store.table('thing-tags'),
    }
    for (const facet of ['properties', 'desired', 'tags'] as const) {
      this.#tables[facet].onChange((k, value) => {
        const held = state(k)?.[facet] as Record<string, unknown> | undefined
        if (held === undefined) return
        for (const id of Object.keys(held)) delete held[id]
        Object.assign(held, value)
      })
    }
    this.#events = store.log('thing-events', MAX_EVENTS)
    this.#raw = store.log('thing-raw', MAX_RAW_UPLINKS)
    this.#events.onAppend((k, event) => {
      const held = state(k)
      if (held !== undefined) pushBounded(held.events, event, MAX_EVENTS)
    })
    this.#raw.onAppend((k, raw) => {
      const held = state(k)
      if (held === undefined) return
      const entry = { payload: Uint8Array.from(Buffer.from(raw.payloadBase64, 'base64')), time: raw.time }
      pushBounded(held.rawUp, entry, MAX_RAW_UPLINKS)
    })
  }

  /** The facet of the device's state changed. */
  changed(identity: DeviceIdentity, state: DeviceThingState, facet: ThingFacet): void {
    this.#tables[facet].save(key(identity), state[facet])
  }

  /** Adds a posted event to the device's history. */
  event(identity: DeviceIdentity, state: DeviceThingState, event: ReportedEvent): void {
    pushBounded(state.events, event, MAX_EVENTS)
    this.#events.append(key(identity), event)
  }

  /** Adds a raw uplink to the device's history. */
  raw(identity: DeviceIdentity, state: DeviceThingState, entry: RawUplink): void {
    pushBounded(state.rawUp, entry, MAX_RAW_UPLINKS)
    this.#raw.append(key(identity), {
      payloadBase64: Buffer.from(entry.payload).toString('base64'),
      time: entry.time,
    })
  }
}
