import {
  type AlinkRequest,
  type Connection,
  type DeviceIdentity,
  type LinkkitError,
  parseRequest,
  Topics,
  toLinkkitError,
} from '@linkkit/core'
import type { EventEmitter } from 'eventemitter3'
import type { SubDevice } from './sub-device.js'
import type { SubDeviceNotice, SubDevicesEvents, TopoChangeKind } from './types.js'

/** What the notice handlers use of the sub-device manager. */
export interface NoticeContext {
  readonly gateway: Connection
  find(identity: DeviceIdentity): SubDevice | undefined
  emit<E extends EventEmitter.EventNames<SubDevicesEvents>>(
    event: E,
    ...args: EventEmitter.EventArgs<SubDevicesEvents, E>
  ): void
  report(error: LinkkitError): void
}

/** Passes a notice to the sub-device it concerns, if it is open here. */
function tell(ctx: NoticeContext, identity: DeviceIdentity, notice: SubDeviceNotice | 'topology'): void {
  ctx
    .find(identity)
    ?.notice(notice)
    .catch((error: unknown) => ctx.report(toLinkkitError(error, 'ERR_SUBSCRIBE_FAILED')))
}

/** `/sys/{subPk}/{subDn}/thing/{disable,enable,delete}` (docs/protocol.md §5). */
export const SUB_NOTICE = /^\/sys\/[^/]+\/[^/]+\/thing\/(disable|enable|delete)$/

const TOPO_KINDS: Readonly<Record<number, TopoChangeKind>> = {
  0: 'created',
  1: 'deleted',
  2: 'enabled',
  8: 'disabled',
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function identities(value: unknown): DeviceIdentity[] {
  if (!Array.isArray(value)) return []
  return value.flatMap((entry) =>
    isRecord(entry) && typeof entry.productKey === 'string' && typeof entry.deviceName === 'string'
      ? [{ productKey: entry.productKey, deviceName: entry.deviceName }]
      : [],
  )
}

/** Answers a notice 200 (QoS 0, as the C SDKs reply); a lost reply only makes the platform resend. */
function acknowledge(ctx: NoticeContext, topic: string, request: AlinkRequest): void {
  ctx.gateway.reply(Topics.reply(topic), request.id, 200, {}).catch(() => {})
}

/** What each topology change means for a sub-device opened here. */
const TOPO_EFFECT: Partial<Record<TopoChangeKind, SubDeviceNotice | 'topology'>> = {
  deleted: 'topology',
  disabled: 'disable',
  enabled: 'enable',
}

/**
 * Routes of the notices the platform sends to the gateway itself: topology change, permit join
 * and "add these sub-devices". Each is answered 200 and becomes an event; a malformed one throws
 * into the connection's router, which reports it as an `error` event.
 */
export function gatewayNoticeRoutes(
  ctx: NoticeContext,
): Array<[string, (topic: string, payload: Buffer) => void]> {
  const gw = ctx.gateway
  return [
    [
      Topics.sys(gw, 'thing/topo/change'),
      (topic, payload) => {
        const request = parseRequest(payload, topic)
        acknowledge(ctx, topic, request)
        const params = isRecord(request.params) ? request.params : {}
        const status = typeof params.status === 'number' ? params.status : undefined
        const kind = (status === undefined ? undefined : TOPO_KINDS[status]) ?? 'unknown'
        const subDevices = identities(params.subList)
        const effect = TOPO_EFFECT[kind]
        if (effect !== undefined) for (const id of subDevices) tell(ctx, id, effect)
        ctx.emit('topo:change', { kind, status, subDevices })
      },
    ],
    [
      Topics.sys(gw, 'thing/gateway/permit'),
      (topic, payload) => {
        const request = parseRequest(payload, topic)
        acknowledge(ctx, topic, request)
        const params = isRecord(request.params) ? request.params : {}
        const productKey =
          typeof params.productKey === 'string' && params.productKey !== '' ? params.productKey : undefined
        const time = Number(params.time)
        ctx.emit('permit', { productKey, timeSeconds: Number.isFinite(time) && time >= 0 ? time : 0 })
      },
    ],
    [
      Topics.sys(gw, 'thing/topo/add/notify'),
      (topic, payload) => {
        const request = parseRequest(payload, topic)
        acknowledge(ctx, topic, request)
        ctx.emit('topo:add', identities(request.params))
      },
    ],
  ]
}

/**
 * Disable / enable / delete of one sub-device. A logged-in sub-device's namespace subscription
 * and its notice subscription may both carry the notice, so repeats of one id are dropped.
 */
export class SubDeviceNotices {
  readonly #ctx: NoticeContext
  readonly #seen = new Set<string>()

  constructor(ctx: NoticeContext) {
    this.#ctx = ctx
  }

  handle(owner: DeviceIdentity, topic: string, payload: Buffer): void {
    const notice = SUB_NOTICE.exec(topic)?.[1] as SubDeviceNotice | undefined
    if (notice === undefined) return
    const request = parseRequest(payload, topic)
    acknowledge(this.#ctx, topic, request)
    const key = `${topic} ${request.id}`
    if (this.#seen.has(key)) return
    this.#seen.add(key)
    if (this.#seen.size > 256) this.#seen.delete(this.#seen.values().next().value as string)
    tell(this.#ctx, owner, notice)
    this.#ctx.emit('subdevice:notice', { ...owner, notice })
  }
}
