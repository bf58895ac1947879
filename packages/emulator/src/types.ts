import type { DeviceIdentity } from '@linkkit/core'
import type { Level, Logger } from 'pino'
import type { AlinkInvalidInfo, DeviceThingState, ThingModelInput } from './alink/types.js'
import type { EmulatorClock } from './clock.js'
import type { TopologyRecord } from './gateway/types.js'
import type { DeviceOtaSnapshot } from './ota/types.js'

/** A device the emulated platform knows. */
export interface DeviceRecord {
  /** The product key. */
  productKey: string
  /** The device name. */
  deviceName: string
  /** Absent for a device that must obtain its secret by dynamic registration (docs/protocol.md §1.4). */
  deviceSecret?: string | undefined
  /** A disabled device is refused at CONNECT with return code 5. @default false */
  disabled?: boolean | undefined
}

/** A product, needed only for dynamic registration ("one product one secret"). */
export interface ProductRecord {
  /** The product key. */
  productKey: string
  /** The product secret, needed for dynamic registration. */
  productSecret?: string | undefined
  /**
   * When true, any device name of this product may register dynamically (it is created on the
   * fly); otherwise only devices listed without a secret may. @default false
   */
  dynamicRegistration?: boolean | undefined
  /**
   * The product's node type, as chosen when a product is created on the platform. Only devices of a
   * `'gateway'` product may register sub-devices (`thing.sub.register` and
   * `thing.proxy.provisioning.product_register`); others are answered 401. @default 'device'
   */
  nodeType?: 'device' | 'gateway' | undefined
  /**
   * The product's thing model: a TSL document, the path (or `file:` URL) of a TSL JSON file, or a
   * `ThingModel` compiled by `@linkkit/thing-model`, read as the document it came from. Posts are
   * checked against it, `invokeService` and `setProperties` check their params with it, and
   * `thing.dsltemplate.get` answers with it. Also `emu.setThingModel()`.
   */
  thingModel?: ThingModelInput | undefined
}

/** Options of `Emulator.start()`. */
export interface EmulatorOptions {
  /** Devices the platform knows (also `emu.addDevice()`). */
  devices?: readonly DeviceRecord[]
  /** Products, needed for thing models and dynamic registration (also `emu.addProduct()`). */
  products?: readonly ProductRecord[]
  /** Gateway topologies the platform already holds (they outlive connections, like `devices`). */
  topology?: readonly TopologyRecord[]
  /** @default 0 (a free port) */
  mqttPort?: number
  /** @default 0 (a free port) */
  httpPort?: number
  /** @default '127.0.0.1' */
  host?: string
  /**
   * Public base URL of the firmware server: the URLs of firmware and configuration files handed
   * to devices start with it (`${firmwareBaseUrl}/ota/…`, `…/config/…`). Set it when devices
   * reach the HTTP server another way than `httpUrl` says: through a port forward, a proxy (a path
   * is kept) or a host name. A port that is its scheme's default is left out (`http://host/…`,
   * never `http://host:80/…`), since the C SDK 3.x reads `host:port` as a host name and always
   * dials 80. Invalid URLs are refused with ERR_INVALID_OPTIONS.
   * @default the HTTP server's own origin, likewise without a default port
   */
  firmwareBaseUrl?: string
  /**
   * CONNECTs with a smaller keepalive are refused with return code 3; the platform's floor is 30 s
   * (docs/protocol.md §1.2). Tests that want fast keepalives lower it. @default 30
   */
  minKeepaliveSeconds?: number
  /** How long an MQTT dynamic-registration connection stays open after `/ext/register`. @default 100 */
  registerCloseDelayMs?: number
  /** How long `setProperties`, `invokeService` and the other downlink requests wait for the device. @default 5000 */
  requestTimeoutMs?: number
  /**
   * Sets `TCP_NODELAY` on every MQTT connection (Nagle's algorithm off). Off by default, as in
   * Mosquitto's default configuration (`set_tcp_nodelay false`); the platform documents no setting.
   * With Nagle on, a QoS 1 publish answered by a reply costs about 40 ms (the PUBACK and the
   * reply wait for the client's delayed ACK); QoS 0 request/reply is not affected. @default false
   */
  noDelay?: boolean
  /** A pino logger or a level. @default silent */
  logger?: Logger | Level | 'silent'
  /**
   * The control API's token: every request under `/control/` must carry `Authorization: Bearer
   * <token>` (else 401). 16-256 visible ASCII characters; `emu.controlToken` reads it. `false`
   * turns the check off, which only a loopback `host` accepts. @default a random token per start
   */
  controlToken?: string | false | undefined
  /**
   * An absolute directory from which `POST /control/firmware { path }` may read firmware files
   * (regular files only, symbolic links resolved and kept inside it). @default none: `path` is refused
   */
  allowedFirmwareDir?: string | undefined
  /** Time for OTA jobs (timestamps, upgrade timeouts); tests pass a fake one. @default the system clock */
  clock?: EmulatorClock
  /**
   * Scale-out: several emulator processes serve one platform through this Redis server
   * (`redis://[[user]:password@]host[:port][/db]`, `rediss://` for TLS). The broker shares its
   * sessions, subscriptions and messages through mqemitter-redis and aedes-persistence-redis, and
   * the platform's state (devices, secrets, presence, thing state, firmware, jobs, rollouts,
   * gateways) lives in Redis, so a device on one node answers a request made on another. Without
   * it everything stays in this process. Redis then holds device secrets: see docs/security.md.
   * @default none (one process, in memory)
   */
  redisUrl?: string
  /**
   * The platform's name in Redis: every key starts with `${redisPrefix}:` and every channel with
   * `${redisPrefix}/` or `${redisPrefix}:`. Nodes with the same URL and prefix are one platform;
   * two platforms (two test runs) can share one Redis server with different prefixes. Letters,
   * digits, `_`, `.` and `-`, at most 64. @default 'linkkit-emulator'
   */
  redisPrefix?: string
  /**
   * With `redisUrl`: how long work one node does for the platform (driving a staged rollout) stays
   * its own after the node stops renewing its lease, ms. A node that dies or hangs loses it then, and
   * another live node takes the rollout over (it renews every third of this). @default 15000
   */
  redisLeaseMs?: number
}

export type { DeviceIdentity }

/** What the emulator knows about one device; `emu.device()` returns a copy. */
export interface DeviceSnapshot extends DeviceIdentity {
  /** The device's secret, if it has one. */
  deviceSecret: string | undefined
  /** Refused at CONNECT. */
  disabled: boolean
  /** True once the device has logged in with its secret; dynamic registration then stops. */
  activated: boolean
  /** Connected now. */
  online: boolean
  /** The full clientId of the live connection (or of the last one). */
  clientId: string | undefined
  /** The `k=v` extension of that clientId, e.g. `{ _ss: '1', ext: '3' }`. */
  clientParams: Record<string, string>
  /** Successful CONNECTs so far. */
  connectCount: number
  /** Last connect time, ms since the epoch. */
  lastConnectedAt: number | undefined
  /** Last disconnect time, ms since the epoch. */
  lastDisconnectedAt: number | undefined
  /**
   * The default module's version from the device's last `/ota/device/inform`. `version`,
   * `versions` and `ota` appear once the device connected or the OTA service dealt with it.
   */
  version?: string | undefined
  /** Reported version per module (`default` for the whole device firmware). */
  versions?: Record<string, string>
  /** Upgrade jobs, progress history and version informs. */
  ota?: DeviceOtaSnapshot
  /** Latest reported property values with their time. This and the thing-model fields below are present once the emulator knows the device. */
  properties?: DeviceThingState['properties']
  /** Posted events, oldest first (the last 1000). */
  events?: DeviceThingState['events']
  /** Desired property values with their versions (`emu.setDesired`). */
  desired?: DeviceThingState['desired']
  /** Tags from `thing.deviceinfo.update`, attrKey → attrValue. */
  tags?: DeviceThingState['tags']
  /** Raw uplinks, oldest first (the last 100). */
  rawUp?: DeviceThingState['rawUp']
}

/** Payload of `device:online` and `device:offline`. */
export interface DeviceConnectionInfo extends DeviceIdentity {
  /** The connection's full clientId. */
  clientId: string
  /** The `k=v` parameters of the clientId. */
  clientParams: Record<string, string>
  /** For a sub-device's session (`combine.login`), the gateway whose connection carries it. */
  gateway?: DeviceIdentity
  /**
   * With scale-out (`redisUrl`): true when another node holds the connection; this node heard of
   * it through the platform's shared state. Absent for connections of this node.
   */
  remote?: true
}

/** Payload of `device:ready`. */
export interface DeviceReadyInfo extends DeviceConnectionInfo {
  /** The filters the connection holds then: those a persistent session restored (none for a clean one). */
  filters: string[]
}

/** Payload of `connect:refused`. */
export interface ConnectRefusedInfo {
  /** The clientId of the refused CONNECT. */
  clientId: string
  /** Its username. */
  username: string | undefined
  /** The CONNACK return code sent (2 for a clientId held by another device, 3, 4 or 5). */
  returnCode: number
  /** Why, in words. */
  reason: string
}

/** Payload of `client:subscribed`. */
export interface ClientSubscribedInfo {
  /** The subscribing client. */
  clientId: string
  /** The filters granted. */
  filters: string[]
}

/** Payload of `device:registered`. */
export interface DeviceRegisteredInfo extends DeviceIdentity {
  /** How it registered. */
  via: 'http' | 'mqtt'
}

/** Events of the `Emulator` (eventemitter3). */
export interface EmulatorEvents {
  /** A device connected. */
  'device:online': [info: DeviceConnectionInfo]
  /**
   * A device's own connection can take downlinks: right after `device:online` for a clean
   * session; for a persistent one (`clean_session=0`) once its CONNACK is sent, with its stored
   * subscriptions restored. A sub-device (its gateway's connection is up) gets no `device:ready`.
   */
  'device:ready': [info: DeviceReadyInfo]
  /** A device disconnected. */
  'device:offline': [info: DeviceConnectionInfo]
  /** A device registered dynamically. */
  'device:registered': [info: DeviceRegisteredInfo]
  /** A CONNECT was refused. */
  'connect:refused': [info: ConnectRefusedInfo]
  /** A client's SUBSCRIBE was granted (refused filters left out). */
  'client:subscribed': [info: ClientSubscribedInfo]
  /** Values of an uplink that the thing model refused (event post answered 63xx) or dropped (property post answered 200). */
  'alink:invalid': [info: AlinkInvalidInfo]
}

/** One authorized publish from a device, as handed to `emu.onUplink` handlers. */
export interface UplinkContext extends DeviceIdentity {
  /** The topic published on. */
  topic: string
  /** The payload. */
  payload: Buffer
  /** The publish's QoS. */
  qos: 0 | 1 | 2
  /** The publishing client's id. */
  clientId: string
}

/** Handles one device uplink (`emu.onUplink`). */
export type UplinkHandler = (ctx: UplinkContext) => void | Promise<void>

/** Options of `emu.publish`. */
export interface EmulatorPublishOptions {
  /** @default 0 */
  qos?: 0 | 1
  /** @default false */
  retain?: boolean
}
