// Longer than 300 lines on purpose: this is the emulator's public class, and most of the file is
// the TSDoc of its members, each a delegation of a line or two to the part that does the work
// (start-options.ts, mqtt-front.ts, alink/, ota/, gateway/). The whole API reads in one place.
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http'
import { LinkkitError } from '@linkkit/core'
import { Aedes } from 'aedes'
import { EventEmitter } from 'eventemitter3'
import type { Logger } from 'pino'
import { AlinkService } from './alink/alink-service.js'
import type {
  CloudErrorParams,
  ConfigFile,
  ConfigPushOptions,
  ConfigPushParams,
  ConfigPushSent,
  DesiredProperty,
  DeviceReply,
  DownlinkOptions,
  InvokeServiceOptions,
  RawUpHandler,
  ThingModelInput,
} from './alink/types.js'
import { CONTROL_PREFIX, controlApiHandler } from './control/control-api.js'
import { GatewayAcl } from './gateway/gateway-acl.js'
import { GatewayService } from './gateway/gateway-service.js'
import { HttpRouter } from './http-router.js'
import { MqttFront } from './mqtt-front.js'
import { OtaService } from './ota/ota-service.js'
import type { FirmwareFaultControls } from './ota/types.js'
import { listenOrigin } from './public-url.js'
import { REGISTER_PATH, registrationHandler } from './registration-http.js'
import { DeviceRegistry } from './registry.js'
import { relayRemotePresence } from './remote-presence.js'
import { closeServer, listen, urlHost } from './servers.js'
import { resolveStartOptions, type Settings } from './start-options.js'
import { openStore } from './state/open-store.js'
import type { StateStore } from './state/store.js'
import type {
  DeviceRecord,
  DeviceSnapshot,
  EmulatorEvents,
  EmulatorOptions,
  EmulatorPublishOptions,
  ProductRecord,
  UplinkHandler,
} from './types.js'
import { UplinkBus } from './uplinks.js'

/** Fault injection. The firmware server adds its own faults here as `faults.firmware`. */
export interface EmulatorFaults {
  /** Closes the device's MQTT connection; false when it was not online. */
  kick(productKey: string, deviceName: string): boolean
  /** Faults of the firmware server: global (chainable methods) or per firmware (`.for(firmware)`). */
  firmware: FirmwareFaultControls
}

/**
 * A local Link Kit platform: an MQTT broker that verifies device signatures and confines each
 * device to its own topics, plus one HTTP server (dynamic registration, later firmware files).
 * `await Emulator.start(options)`; `await emu.close()` frees every port.
 */
export class Emulator extends EventEmitter<EmulatorEvents> {
  /** Routes of the emulator's HTTP server: `/auth/`, `/ota/`, `/config/` and the control API under `/control/`. */
  readonly http: HttpRouter
  /**
   * Topic access control; `acl.allow(gateway, subDevice)` extends a connection's topics. It also
   * lets a gateway use the topics of the sub-devices in its topology (`acl.topology`).
   */
  readonly acl = new GatewayAcl()
  /** Fault injection: kicks and the firmware server's faults. */
  readonly faults: EmulatorFaults
  /** The OTA service: firmware packages, upgrade jobs, progress and version informs. */
  readonly ota: OtaService
  /** Gateways and sub-devices: topology, sub-device sessions, pack posts, notices to gateways. */
  readonly gateway: GatewayService
  /** @internal Device records and live state, shared with the other parts of the emulator. */
  readonly registry: DeviceRegistry
  /** The emulator's pino logger (silent unless configured). */
  readonly logger: Logger
  #mqttUrl = ''
  #httpUrl = ''
  #firmwareBaseUrl = ''
  readonly #uplinks: UplinkBus
  readonly #mqtt: MqttFront
  readonly #httpServer: HttpServer
  #closing: Promise<void> | undefined
  readonly #alink: AlinkService
  readonly #controlToken: string | undefined
  readonly #store: StateStore

  /**
   * Starts the broker and the HTTP server. Ports 0 pick free ports. Invalid options reject with
   * ERR_INVALID_OPTIONS naming the option; a product whose thing model cannot be read, with
   * ERR_TSL_INVALID.
   */
  static async start(options: EmulatorOptions = {}): Promise<Emulator> {
    const settings = await resolveStartOptions(options)
    const { logger, host } = settings
    const store = await openStore(settings)
    let broker: Aedes
    try {
      broker = await Aedes.createBroker(store.brokerOptions())
    } catch (error) {
      await store.close()
      throw error
    }
    const emu = new Emulator(broker, settings, store)
    try {
      // File URLs of firmware other nodes added need this node's origin before the state loads.
      const httpPort = await listen(emu.#httpServer, settings.httpPort, host)
      emu.#httpUrl = `http://${urlHost(host)}:${httpPort}`
      emu.#firmwareBaseUrl = settings.firmwareBaseUrl ?? listenOrigin(host, httpPort)
      await store.load()
      for (const product of options.products ?? []) emu.addProduct(product)
      for (const device of options.devices ?? []) emu.addDevice(device)
      emu.gateway.seed(options.topology ?? [])
      await emu.#alink.models.loaded()
      const mqttPort = await emu.#mqtt.listen(settings.mqttPort, host)
      emu.#mqttUrl = `mqtt://${urlHost(host)}:${mqttPort}`
    } catch (error) {
      await emu.close()
      throw error
    }
    const { mqttUrl, httpUrl, firmwareBaseUrl } = emu
    logger.info({ mqttUrl, httpUrl, firmwareBaseUrl }, 'emulator started')
    return emu
  }

  private constructor(broker: Aedes, settings: Settings, store: StateStore) {
    super()
    const { logger } = settings
    this.logger = logger
    this.#store = store
    this.registry = new DeviceRegistry(store)
    this.#controlToken = settings.controlToken
    this.http = new HttpRouter(logger)
    this.#uplinks = new UplinkBus(logger)
    this.#mqtt = new MqttFront(broker, {
      registry: this.registry,
      acl: this.acl,
      events: this,
      logger,
      settings,
      admission: () => this.gateway.admission,
      dispatch: this.#uplinks.dispatch,
      store,
      onRemoteUplink: (topic, payload) => this.#remoteUplink(topic, payload),
    })
    const publish = this.publish.bind(this)
    const onUplink = this.onUplink.bind(this)
    this.ota = new OtaService(this, {
      clock: settings.clock,
      store,
      deviceTags: (productKey, deviceName) => this.device(productKey, deviceName)?.tags,
    })
    this.gateway = new GatewayService({
      registry: this.registry,
      acl: this.acl,
      logger,
      events: this,
      onUplink,
      publish,
      dispatch: this.#uplinks.dispatch,
      directClientId: ({ productKey, deviceName }) =>
        this.#mqtt.connections.session(productKey, deviceName)?.clientId,
      requestTimeoutMs: settings.requestTimeoutMs,
    })
    this.faults = { kick: this.kick.bind(this), firmware: this.ota.faults }
    this.#alink = new AlinkService({
      registry: this.registry,
      acl: this.acl,
      http: this.http,
      logger,
      publish,
      onUplink,
      fileBaseUrl: () => this.#firmwareBaseUrl,
      onInvalid: (info) => this.emit('alink:invalid', info),
      requestTimeoutMs: settings.requestTimeoutMs,
      store,
    })
    this.http.route('*', '/ota/', (req, res) => {
      this.ota.server.handle(req, res)
    })
    const { host, controlToken: token, firmwareDir } = settings
    this.http.route('*', CONTROL_PREFIX, controlApiHandler(this, { host, logger, token, firmwareDir }))
    const registered = ({ productKey, deviceName }: { productKey: string; deviceName: string }) => {
      this.emit('device:registered', { productKey, deviceName, via: 'http' })
    }
    this.http.route('POST', REGISTER_PATH, registrationHandler(this.registry, registered))
    this.#httpServer = createHttpServer(this.http.handle)
    relayRemotePresence(this.registry, this, this.logger, store.node)
  }

  /**
   * This node's id within a platform on Redis (`redisUrl`), unique among the nodes that are up;
   * `''` for an emulator in memory.
   */
  get node(): string {
    return this.#store.node
  }

  /** `mqtt://host:port` of the broker. */
  get mqttUrl(): string {
    return this.#mqttUrl
  }

  /** `http://host:port` of the HTTP server. */
  get httpUrl(): string {
    return this.#httpUrl
  }

  /**
   * The token the control API requires as `Authorization: Bearer <token>` (`controlToken`, or
   * random per start); undefined when started with `controlToken: false`.
   */
  get controlToken(): string | undefined {
    return this.#controlToken
  }

  /**
   * The origin (and path) that firmware and configuration file URLs start with: the
   * `firmwareBaseUrl` option, else the HTTP server's origin; never with its scheme's default port.
   */
  get firmwareBaseUrl(): string {
    return this.#firmwareBaseUrl
  }

  /**
   * Adds a product (or replaces its record). A `thingModel` document is checked at once (throws
   * ERR_TSL_INVALID); a path loads in the background.
   */
  addProduct(record: ProductRecord): void {
    this.registry.addProduct(record)
    if (record.thingModel !== undefined) void this.#alink.models.set(record.productKey, record.thingModel)
  }

  /** Adds a device (or replaces its record). */
  addDevice(record: DeviceRecord): void {
    this.registry.addDevice(record)
  }

  /** Disables or enables a device; disabling also closes its connection, as the platform does. */
  setDisabled(productKey: string, deviceName: string, disabled: boolean): void {
    const state = this.registry.get(productKey, deviceName)
    if (state === undefined) {
      throw new LinkkitError('ERR_INVALID_ARGUMENT', `unknown device ${productKey}/${deviceName}`)
    }
    state.disabled = disabled
    this.registry.saveRecord(state)
    if (disabled) this.kick(productKey, deviceName)
  }

  /** Closes the device's MQTT connection; false when it was not online. */
  kick(productKey: string, deviceName: string): boolean {
    return this.#mqtt.connections.kick(productKey, deviceName)
  }

  /** A copy of what the emulator knows about the device, or undefined for an unknown one. */
  device(productKey: string, deviceName: string): DeviceSnapshot | undefined {
    this.#alink.device({ productKey, deviceName })
    return this.registry.snapshot({ productKey, deviceName })
  }

  /** Runs `handler` for every authorized publish from a device on a topic matching `filter`. */
  onUplink(filter: string, handler: UplinkHandler): () => void {
    return this.#uplinks.on(filter, handler)
  }

  /**
   * Publishes a downlink as the platform. It reaches devices that subscribed to it, and devices
   * connected with `_ss=1` when it is one of their system topics.
   */
  publish(topic: string, payload: string | Uint8Array, options: EmulatorPublishOptions = {}): Promise<void> {
    return this.#mqtt.publish(topic, payload, options)
  }

  /**
   * Sets (replaces) a product's thing model (see `ProductRecord.thingModel`); resolves once it is
   * loaded (a path is read from disk), rejects ERR_TSL_INVALID for a malformed one.
   */
  async setThingModel(productKey: string, tsl: ThingModelInput): Promise<void> {
    await this.#alink.models.set(productKey, tsl)
  }

  /**
   * Sends `thing.service.property.set` and resolves with the device's `set_reply` (any code).
   * Checked against the product's TSL first (ERR_TSL_VALIDATION); ERR_NOT_CONNECTED when the
   * device is offline; ERR_REQUEST_TIMEOUT without a reply.
   */
  setProperties(
    productKey: string,
    deviceName: string,
    props: Record<string, unknown>,
    options?: DownlinkOptions,
  ): Promise<DeviceReply> {
    return this.#alink.downlinks.setProperties({ productKey, deviceName }, props, options)
  }

  /** Sends `thing.service.property.get` (3.x legacy) and resolves with the reply; `data` holds the values. */
  getProperties(
    productKey: string,
    deviceName: string,
    ids: string[],
    options?: DownlinkOptions,
  ): Promise<DeviceReply> {
    return this.#alink.downlinks.getProperties({ productKey, deviceName }, ids, options)
  }

  /**
   * Invokes a service and resolves with the device's reply `{ code, data }`: async on
   * `thing/service/${serviceId}`, or sync over RRPC (`options.sync`, default the TSL `callType`),
   * in the `/ext/rrpc` form for devices connected with `ext` bit0 set, else the legacy form.
   */
  invokeService(
    productKey: string,
    deviceName: string,
    serviceId: string,
    params?: Record<string, unknown>,
    options?: InvokeServiceOptions,
  ): Promise<DeviceReply> {
    return this.#alink.downlinks.invokeService({ productKey, deviceName }, serviceId, params, options)
  }

  /** Stores desired property values with new versions; the device reads them with `thing.property.desired.get`. */
  setDesired(
    productKey: string,
    deviceName: string,
    props: Record<string, unknown>,
  ): Promise<Record<string, DesiredProperty>> {
    return this.#alink.setDesired({ productKey, deviceName }, props)
  }

  /** Sets the product's remote configuration file, served under `/config/`; returns the offer devices get. */
  setConfig(productKey: string, file: ConfigFile): ConfigPushParams {
    return this.#alink.configs.set(productKey, file)
  }

  /** Pushes the product's configuration on `thing/config/push` and resolves with the device's reply. */
  pushConfig(
    productKey: string,
    deviceName: string,
    options?: ConfigPushOptions & { awaitReply?: true },
  ): Promise<DeviceReply>
  /**
   * Pushes the product's configuration and resolves with the push's id once it is published,
   * for devices that answer only failures (the C SDK 3.x).
   */
  pushConfig(
    productKey: string,
    deviceName: string,
    options: ConfigPushOptions & { awaitReply: false },
  ): Promise<ConfigPushSent>
  pushConfig(
    productKey: string,
    deviceName: string,
    options?: ConfigPushOptions,
  ): Promise<DeviceReply | ConfigPushSent> {
    return this.#alink.pushConfig({ productKey, deviceName }, options)
  }

  /** Sends bytes on `thing/model/down_raw`; resolves with the bytes of the device's `down_raw_reply`. */
  sendRaw(
    productKey: string,
    deviceName: string,
    bytes: Uint8Array,
    options?: DownlinkOptions,
  ): Promise<Buffer> {
    return this.#alink.downlinks.sendRaw({ productKey, deviceName }, bytes, options)
  }

  /** Answers the product's raw uplinks with `handler` (undefined restores the default echo). */
  onRawUp(productKey: string, handler: RawUpHandler | undefined): void {
    this.#alink.raw.setHandler(productKey, handler)
  }

  /** Publishes an error notice on `/ext/error/${pk}/${dn}`. */
  sendCloudError(productKey: string, deviceName: string, notice: CloudErrorParams): Promise<void> {
    return this.#alink.downlinks.cloudError({ productKey, deviceName }, notice)
  }

  /** Closes every client connection and both servers. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#close()
    return this.#closing
  }

  /** Same as `close()`, for `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }

  /** A reply another node's broker received may answer a request of this node (scale-out). */
  #remoteUplink(topic: string, payload: Buffer): void {
    if (!this.#alink.settleRemote(topic, payload)) this.gateway.settleRemote(topic, payload)
  }

  async #close(): Promise<void> {
    this.#store.mute()
    this.gateway.close()
    await this.#alink.close()
    await this.ota.close()
    await this.#mqtt.close()
    this.#httpServer.closeAllConnections()
    await closeServer(this.#httpServer)
    await this.#store.close()
    this.logger.info('emulator closed')
  }
}
