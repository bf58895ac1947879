import type { LinkkitError } from '@linkkit/core'

/** A property set the cloud sent, after validation (docs/protocol.md §2.3 "Property set"). */
export interface PropertySetEvent {
  /** The validated values, identifier → value. */
  params: Record<string, unknown>
  /** The Alink id of the request. */
  id: string
}

/** A service invocation that passed validation (docs/protocol.md §2.3 "Service invoke"). */
export interface ServiceEvent {
  /** The service's identifier. */
  serviceId: string
  /** The validated input params. */
  params: Record<string, unknown>
  /** The Alink id of the request. */
  id: string
  /** True when it came as a synchronous RRPC call (legacy or `/ext/rrpc`), false for an async one. */
  sync: boolean
}

/** A notice on `/ext/error/${pk}/${dn}` (docs/protocol.md §2.3 "Cloud error notice"). */
export interface CloudErrorNotice {
  /** The platform's error code, when the notice has one. */
  code: number | undefined
  /** Its message. */
  message: string | undefined
  /** Its data, as sent. */
  data: unknown
}

/** Bytes the cloud sent on `thing/model/down_raw` (or its `/ext/rrpc` form when `sync`). */
export interface RawDownEvent {
  /** The raw bytes. */
  payload: Buffer
  /** True for the synchronous (`/ext/rrpc`) form, whose reply the cloud waits for. */
  sync: boolean
}

/** Desired values as `getDesired` returned them: identifier → `{ value, version }`. */
export type DesiredValues = Record<
  string,
  {
    /** The desired value. */
    value: unknown
    /** Its version, for a guarded `deleteDesired`. */
    version?: number
  }
>

/** Events of a `ThingClient`. Listeners that throw are caught and reported as `error`. */
export interface ThingClientEvents {
  /** A valid property set arrived (before the handler runs). */
  'property:set': (event: PropertySetEvent) => void
  /** A valid service call arrived (before the handler runs). */
  service: (event: ServiceEvent) => void
  /** The values a `getDesired` call returned. */
  desired: (values: DesiredValues) => void
  /** A notice on `/ext/error` (also emitted as an `ERR_CLOUD_ERROR` error). */
  'cloud:error': (notice: CloudErrorNotice) => void
  /** Raw bytes on `down_raw`. */
  raw: (event: RawDownEvent) => void
  /** Malformed or invalid inbound messages, failing handlers, cloud error notices; `.topic` says where. Without a listener it is printed once per code as a `LinkkitWarning` (docs/errors.md). */
  error: (error: LinkkitError) => void
}
