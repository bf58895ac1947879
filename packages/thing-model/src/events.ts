import type { LinkkitError } from '@linkkit/core'

/** A property set the cloud sent, after validation (PROTOCOL.md §2.3 "Property set"). */
export interface PropertySetEvent {
  params: Record<string, unknown>
  /** The Alink id of the request. */
  id: string
}

/** A service invocation that passed validation (PROTOCOL.md §2.3 "Service invoke"). */
export interface ServiceEvent {
  serviceId: string
  params: Record<string, unknown>
  id: string
  /** True when it came as a synchronous RRPC call (legacy or `/ext/rrpc`), false for an async one. */
  sync: boolean
}

/** A notice on `/ext/error/${pk}/${dn}` (PROTOCOL.md §2.3 "Cloud error notice"). */
export interface CloudErrorNotice {
  code: number | undefined
  message: string | undefined
  data: unknown
}

/** Bytes the cloud sent on `thing/model/down_raw` (or its `/ext/rrpc` form when `sync`). */
export interface RawDownEvent {
  payload: Buffer
  sync: boolean
}

/** Desired values as `getDesired` returned them: identifier → `{ value, version }`. */
export type DesiredValues = Record<string, { value: unknown; version?: number }>

/** Events of a `ThingClient`. Listeners that throw are caught and reported as `error`. */
export interface ThingClientEvents {
  'property:set': (event: PropertySetEvent) => void
  service: (event: ServiceEvent) => void
  /** The values a `getDesired` call returned. */
  desired: (values: DesiredValues) => void
  'cloud:error': (notice: CloudErrorNotice) => void
  raw: (event: RawDownEvent) => void
  /** Malformed or invalid inbound messages, failing handlers, cloud error notices; `.topic` says where. */
  error: (error: LinkkitError) => void
}
