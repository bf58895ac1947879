import { LinkkitError, Topics } from '@linkkit/core'
import type { EventEmitter } from 'eventemitter3'
import type { Logger } from 'pino'
import type { DeviceReply } from '../alink/types.js'
import { type DeviceRegistry, deviceKey } from '../registry.js'
import type {
  DeviceIdentity,
  EmulatorEvents,
  EmulatorPublishOptions,
  UplinkContext,
  UplinkHandler,
} from '../types.js'
import { Admission } from './admission.js'
import { DEFAULT_LIMITS, type GatewayLimits } from './codes.js'
import type { GatewayAcl } from './gateway-acl.js'
import { GatewayNotices } from './notices.js'
import { gatewayRoutes } from './routes.js'
import { SubSessions } from './sub-sessions.js'
import type { GatewayCore, TopologyRecord } from './types.js'
import { mountGatewayRoutes } from './uplink-router.js'

/** What the gateway service uses of the emulator. */
export interface GatewayHost {
  /** Device records and state. */
  registry: DeviceRegistry
  /** Topic rights, including those granted to gateways. */
  acl: GatewayAcl
  /** Where to log. */
  logger: Logger
  /** Where emulator events go. */
  events: EventEmitter<EmulatorEvents>
  /** Subscribes to device uplinks. */
  onUplink(filter: string, handler: UplinkHandler): () => void
  /** Publishes a downlink as the platform. */
  publish(topic: string, payload: string | Uint8Array, options?: EmulatorPublishOptions): Promise<void>
  /** The uplink bus itself, for uplinks a pack post stands for. */
  dispatch(ctx: UplinkContext): void
  /** The clientId of a device's own (direct) connection, if it has one. */
  directClientId(identity: DeviceIdentity): string | undefined
  /** How long requests to gateways wait for the reply. */
  requestTimeoutMs: number
}

/** A plain copy: callers may pass objects whose identity lives in getters (a linkkit SubDevice). */
function identityOf(d: DeviceIdentity): DeviceIdentity {
  return { productKey: d.productKey, deviceName: d.deviceName }
}

/** Topology change statuses (`thing.topo.change` params.status). */
const TopoStatus = { created: 0, deleted: 1, enabled: 2, disabled: 8 } as const

/**
 * The platform's gateway side (`emu.gateway`, docs/protocol.md §5): sub-device registration (both
 * forms), topology add / delete / get with signature checks, sub-device login and logout (single
 * and batched) with the ACL grant that lets the gateway carry the sub-device's topics, gateway
 * pack posts, and the notices the platform sends gateways. Sub-device OTA needs nothing more: the
 * OTA service keys its jobs on the topic's pk/dn, and a logged-in sub-device counts as online.
 */
export class GatewayService {
  /** Decides per message what a gateway's connection carries (mounted in front of the uplink bus and the broker's forwarding). */
  readonly admission: Admission
  readonly #host: GatewayHost
  readonly #core: GatewayCore
  readonly #notices: GatewayNotices
  readonly #sessions: SubSessions
  readonly #found = new Map<string, DeviceIdentity[]>()
  readonly #cleanups: Array<() => void> = []
  #limits: GatewayLimits = { ...DEFAULT_LIMITS }

  constructor(host: GatewayHost) {
    this.#host = host
    const logger = host.logger.child({ component: 'gateway' })
    this.#sessions = new SubSessions({ acl: host.acl, registry: host.registry, events: host.events, logger })
    const self = this
    this.#core = {
      acl: host.acl,
      registry: host.registry,
      logger,
      get limits() {
        return self.#limits
      },
      deleted: new Set(),
      sessions: this.#sessions,
      dispatch: host.dispatch,
      now: Date.now,
    }
    this.admission = new Admission({
      topology: host.acl.topology,
      logger,
      publish: host.publish,
      directClientId: host.directClientId,
    })
    this.#notices = new GatewayNotices({ publish: host.publish, timeoutMs: host.requestTimeoutMs })
    this.#cleanups.push(...mountGatewayRoutes({ ...host, logger }, gatewayRoutes(this.#core, this.#found)))
    for (const filter of [
      '/sys/+/+/thing/+',
      '/sys/+/+/thing/topo/+',
      '/sys/+/+/thing/gateway/+',
      '/sys/+/+/thing/topo/add/+',
    ]) {
      this.#cleanups.push(host.onUplink(filter, (ctx) => void this.#notices.settle(ctx.topic, ctx.payload)))
    }
    // The platform takes a gateway's sub-devices offline with it.
    const onOffline = (info: DeviceIdentity) => {
      for (const sub of host.acl.topology.online(info)) this.#sessions.logout(sub)
    }
    host.events.on('device:offline', onOffline)
    this.#cleanups.push(() => host.events.off('device:offline', onOffline))
  }

  /** The sub-devices in a gateway's topology. */
  topology(gateway: DeviceIdentity): DeviceIdentity[] {
    return this.#host.acl.topology.members(gateway)
  }

  /** The sub-devices logged in through a gateway. */
  loggedIn(gateway: DeviceIdentity): DeviceIdentity[] {
    return this.#host.acl.topology.online(gateway)
  }

  /** Whether a sub-device is logged in through some gateway. */
  isLoggedIn(sub: DeviceIdentity): boolean {
    return this.#host.acl.topology.session(sub) !== undefined
  }

  /** Sub-devices a gateway reported with `thing.list.found`. */
  found(gateway: DeviceIdentity): DeviceIdentity[] {
    return structuredClone(this.#found.get(deviceKey(gateway.productKey, gateway.deviceName)) ?? [])
  }

  /** Changes the platform's gateway limits (sub-devices per topology, per batch…). */
  setLimits(limits: Partial<GatewayLimits>): void {
    this.#limits = { ...this.#limits, ...limits }
  }

  /** Stores topology relations as the platform's durable state (`EmulatorOptions.topology`), without notices. */
  seed(records: readonly TopologyRecord[]): void {
    for (const { gateway, subDevices } of records)
      for (const sub of subDevices) this.#host.acl.topology.add(gateway, sub)
  }

  /**
   * Adds relations from the cloud side (the BatchAddThingTopo API) and tells an online gateway
   * with `thing.topo.change` status 0; resolves with its reply (undefined when it is offline).
   */
  async addTopology(
    gateway: DeviceIdentity,
    subs: readonly DeviceIdentity[],
  ): Promise<DeviceReply | undefined> {
    gateway = identityOf(gateway)
    subs = subs.map(identityOf)
    for (const sub of [gateway, ...subs]) this.#known(sub)
    for (const sub of subs) this.#host.acl.topology.add(gateway, sub)
    return this.#topoChange(gateway, TopoStatus.created, subs)
  }

  /** Removes relations from the cloud side (logging the sub-devices out) and tells the gateway, status 1. */
  async removeTopology(
    gateway: DeviceIdentity,
    subs: readonly DeviceIdentity[],
  ): Promise<DeviceReply | undefined> {
    gateway = identityOf(gateway)
    subs = subs.map(identityOf)
    for (const sub of subs) {
      this.#sessions.logout(sub)
      this.#host.acl.topology.remove(gateway, sub)
    }
    return this.#topoChange(gateway, TopoStatus.deleted, subs)
  }

  /** `thing.gateway.permit`: lets the gateway accept new sub-devices (of `productKey`) for `timeSeconds`. */
  permitJoin(gateway: DeviceIdentity, options: { productKey?: string; timeSeconds?: number } = {}) {
    const params = { productKey: options.productKey ?? '', time: options.timeSeconds ?? 60 }
    return this.#notify(gateway, Topics.sys(gateway, 'thing/gateway/permit'), 'thing.gateway.permit', params)
  }

  /** `thing.topo.add.notify`: asks the gateway to add these sub-devices to its topology. */
  notifyTopoAdd(gateway: DeviceIdentity, subs: readonly DeviceIdentity[]) {
    const params = subs.map(({ productKey, deviceName }) => ({ productKey, deviceName }))
    return this.#notify(
      gateway,
      Topics.sys(gateway, 'thing/topo/add/notify'),
      'thing.topo.add.notify',
      params,
    )
  }

  /** Disables a sub-device: its session ends, logins get 522, and its gateway hears `thing.disable`. */
  disableSubDevice(sub: DeviceIdentity): Promise<DeviceReply | undefined> {
    sub = identityOf(sub)
    const state = this.#known(sub)
    state.disabled = true
    this.#host.registry.saveRecord(state)
    this.#sessions.logout(sub)
    return this.#subNotice(sub, 'disable')
  }

  /** Enables a disabled sub-device and tells its gateway with `thing.enable`. */
  enableSubDevice(sub: DeviceIdentity): Promise<DeviceReply | undefined> {
    sub = identityOf(sub)
    const state = this.#known(sub)
    state.disabled = false
    this.#host.registry.saveRecord(state)
    return this.#subNotice(sub, 'enable')
  }

  /**
   * Deletes a sub-device: its session ends, logins and topology adds are refused (521 / 6100), and
   * its gateway hears `thing.delete`. The topology relation goes once the gateway answered, so
   * that its reply on the sub-device's topic is still within its topics.
   */
  async deleteSubDevice(sub: DeviceIdentity): Promise<DeviceReply | undefined> {
    sub = identityOf(sub)
    this.#known(sub)
    const drop = () => {
      const gateway = this.#host.acl.topology.gatewayOf(sub)
      if (gateway !== undefined) this.#host.acl.topology.remove(gateway, sub)
    }
    try {
      return await this.#subNotice(sub, 'delete', () => {
        this.#sessions.logout(sub)
        this.#core.deleted.add(deviceKey(sub.productKey, sub.deviceName))
      })
    } finally {
      drop()
    }
  }

  /** Ends a sub-device's session on the platform without telling the gateway (a lost session); false when it had none. */
  dropSession(sub: DeviceIdentity): boolean {
    sub = identityOf(sub)
    return this.#sessions.logout(sub)
  }

  /** Settles a notice whose reply a gateway sent to another node (scale-out). */
  settleRemote(topic: string, payload: Buffer): boolean {
    return this.#notices.settle(topic, payload)
  }

  /** Stops handling gateway uplinks and notices. */
  close(): void {
    for (const cleanup of this.#cleanups.splice(0)) cleanup()
    this.#notices.close()
  }

  #known(identity: DeviceIdentity) {
    const state = this.#host.registry.get(identity.productKey, identity.deviceName)
    if (state === undefined) {
      throw new LinkkitError(
        'ERR_INVALID_ARGUMENT',
        `unknown device ${identity.productKey}/${identity.deviceName}`,
      )
    }
    return state
  }

  #topoChange(gateway: DeviceIdentity, status: number, subs: readonly DeviceIdentity[]) {
    const subList = subs.map(({ productKey, deviceName }) => ({ productKey, deviceName }))
    return this.#notify(gateway, Topics.sys(gateway, 'thing/topo/change'), 'thing.topo.change', {
      status,
      subList,
    })
  }

  async #subNotice(sub: DeviceIdentity, op: 'disable' | 'enable' | 'delete', after?: () => void) {
    const gateway = this.#host.acl.topology.gatewayOf(sub)
    if (
      gateway === undefined ||
      this.#host.registry.get(gateway.productKey, gateway.deviceName)?.online !== true
    ) {
      after?.()
      return undefined
    }
    return this.#notices.send(Topics.sys(sub, `thing/${op}`), `thing.${op}`, {}, after)
  }

  async #notify(gateway: DeviceIdentity, topic: string, method: string, params: unknown) {
    if (this.#host.registry.get(gateway.productKey, gateway.deviceName)?.online !== true) return undefined
    return this.#notices.send(topic, method, params)
  }
}
