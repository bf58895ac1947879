import {
  backoffDelay,
  createLogger,
  type LinkkitError,
  LinkkitError as LinkkitErrorClass,
} from '@linkkit/core'
import { loadThingModel, type ThingModel } from '@linkkit/thing-model'
import type { Logger } from 'pino'
import { ConnectQueue } from './connect-queue.js'
import { DeviceLinks, type LinkSettings } from './device-links.js'
import { assignFaults } from './faults.js'
import { type OtaHost, stopUpgrade } from './fleet-ota.js'
import { FleetThing } from './fleet-thing.js'
import { type DeviceView, deviceView, metricsOf } from './fleet-view.js'
import { Counters, type FleetMetrics } from './metrics.js'
import { mqttLogEnabled } from './mqtt-log.js'
import {
  type FleetChurnOptions,
  type FleetOptions,
  type ResolvedFleetOptions,
  resolveFleetOptions,
} from './options.js'
import { seededRandom } from './random.js'
import { routeMessage } from './routing.js'
import { Scheduler } from './scheduler.js'
import { SimDevice } from './sim-device.js'
import { type DeviceTriple, fleetTriples } from './triples.js'
import type { Random } from './values.js'

/**
 * N simulated devices in one process (`simulateFleet(options)`), each one MQTT.js client signed as
 * a `linkkit.open()` device and one small record (`SimDevice`); everything else is the fleet's,
 * shared: the MQTT listeners (`DeviceLinks`), the thing model's posts, replies and answers with one
 * pending map (`FleetThing`), and one timer (`Scheduler`) for posts, request timeouts, churn and
 * backoffs. A device gets a `Session` and a `FotaClient` only while it takes an upgrade. They
 * connect through a bounded queue, post generated properties at a set rate, answer services and
 * property sets, take firmware over the air, churn and fail as configured.
 */
export class Fleet implements AsyncDisposable {
  readonly #o: Readonly<ResolvedFleetOptions>
  #churnOptions: ResolvedFleetOptions['churn']
  readonly #sims: SimDevice[]
  readonly #model: ThingModel | undefined
  readonly #scheduler: Scheduler
  readonly #queue: ConnectQueue<SimDevice>
  readonly #counters: Counters
  readonly #random: Random
  readonly #logger: Logger
  readonly #links: DeviceLinks
  readonly #thing: FleetThing
  readonly #ota: OtaHost
  readonly #startedAt: number
  readonly #closings = new Set<Promise<void>>()
  #waiters: Array<{ count: number; resolve: () => void; reject: (error: LinkkitError) => void }> = []
  #connected = 0
  #postCursor = 0
  #churnDebt = 0
  #lastTick: number
  #closing: Promise<void> | undefined

  private constructor(
    o: Readonly<ResolvedFleetOptions>,
    triples: readonly DeviceTriple[],
    model: ThingModel | undefined,
    connect: LinkSettings['connect'],
    mqttLog: LinkSettings['mqttLog'],
  ) {
    this.#o = o
    this.#churnOptions = o.churn
    this.#model = model
    this.#random = seededRandom(o.seed)
    this.#logger = createLogger(o.logger, 'fleet')
    this.#counters = new Counters(o.windowSeconds)
    const faults = assignFaults(triples.length, o.faults, this.#random)
    this.#sims = triples.map((t, i) => new SimDevice(t, o.version, faults[i]))
    this.#scheduler = new Scheduler(o.tickMs)
    this.#startedAt = this.#scheduler.now()
    this.#lastTick = this.#startedAt
    this.#queue = new ConnectQueue(o.connectConcurrency, o.connectsPerSecond, (sim) => this.#connect(sim))
    this.#thing = new FleetThing(model, this.#counters, this.#random, o.requestTimeoutMs)
    this.#links = new DeviceLinks(
      { ...o, connect, mqttLog },
      {
        online: (sim) => this.#online(sim),
        connectFailed: (sim, error) => this.#connectFailed(sim, error),
        lost: (sim) => this.#lost(sim),
        message: (sim, topic, payload) =>
          routeMessage(sim, topic, payload, this.#thing, this.#ota, this.#scheduler.now()),
        error: (error) => this.#counters.error(error.code),
        nextId: () => this.#thing.nextId(),
      },
    )
    this.#ota = {
      options: o,
      counters: this.#counters,
      session: {
        logger: this.#logger,
        requestTimeoutMs: o.requestTimeoutMs,
        report: (error) => this.#counters.error(error.code),
      },
      reboot: (sim) => this.#offline(sim, 0),
    }
    this.#scheduler.every((now) => this.#tick(now))
  }

  /** Validates the options, reads the triples and the thing model, and starts connecting. */
  static async start(options: FleetOptions): Promise<Fleet> {
    const o = resolveFleetOptions(options)
    const triples = await fleetTriples(options)
    const model = options.thingModel === undefined ? undefined : await loadThingModel(options.thingModel)
    const { connect } = await import('mqtt')
    const fleet = new Fleet(o, triples, model, connect, mqttLogEnabled())
    for (const sim of fleet.#sims) fleet.#queue.push(sim)
    fleet.#scheduler.start()
    fleet.#scheduler.tick()
    return fleet
  }

  /** Devices in the fleet. */
  get size(): number {
    return this.#sims.length
  }

  /** Devices online now. */
  get connected(): number {
    return this.#connected
  }

  /** A snapshot of the fleet's metrics. */
  metrics(): FleetMetrics {
    const now = this.#scheduler.now()
    return metricsOf({
      sims: this.#sims,
      counters: this.#counters,
      now,
      at: Date.now(),
      elapsedMs: now - this.#startedAt,
      connected: this.#connected,
      connecting: this.#queue.inFlight,
      queued: this.#queue.waiting,
      windowSeconds: this.#o.windowSeconds,
    })
  }

  /** Each device's identity, status, version, last OTA step and fault (no secrets). */
  devices(): DeviceView[] {
    return this.#sims.map(deviceView)
  }

  /** Resolves once `count` devices (default: all) are online at the same time; rejects ERR_CLOSED if the fleet closes first. */
  whenConnected(count = this.#sims.length): Promise<void> {
    if (this.#closing !== undefined)
      return Promise.reject(new LinkkitErrorClass('ERR_CLOSED', 'the fleet was closed'))
    if (this.#connected >= count) return Promise.resolve()
    return new Promise((resolve, reject) => this.#waiters.push({ count, resolve, reject }))
  }

  /** Starts, changes or (with `false`) stops churn while the fleet runs. Throws ERR_INVALID_OPTIONS for invalid options. */
  setChurn(churn: FleetChurnOptions | false): void {
    this.#churnOptions = resolveFleetOptions({ url: this.#o.url, churn }).churn
    this.#churnDebt = 0
  }

  #tick(now: number): void {
    const elapsed = now - this.#lastTick
    this.#lastTick = now
    this.#thing.sweep(now)
    this.#queue.pump(now)
    this.#posts(now)
    this.#churn(elapsed)
  }

  /** Spreads posts evenly: device i posts at i/N of every interval, all from this one tick. */
  #posts(now: number): void {
    const model = this.#model
    const interval = this.#o.postIntervalMs
    if (model === undefined || interval === 0 || model.properties.length === 0) return
    const n = this.#sims.length
    const due = Math.floor(((now - this.#startedAt) * n) / interval)
    // After a stall of the event loop, catch up by at most one round: each device posts once.
    if (due - this.#postCursor > n) this.#postCursor = due - n
    for (; this.#postCursor < due; this.#postCursor++) {
      const sim = this.#sims[this.#postCursor % n] as SimDevice
      if (sim.status === 'online') this.#thing.post(sim, model, now)
    }
  }

  #churn(elapsedMs: number): void {
    const churn = this.#churnOptions
    if (churn === undefined) return
    this.#churnDebt += (this.#connected * elapsedMs) / churn.meanUptimeMs
    for (; this.#churnDebt >= 1; this.#churnDebt--) {
      const sim = this.#sims[Math.floor(this.#random() * this.#sims.length)] as SimDevice
      if (sim.status !== 'online') continue
      this.#counters.churned++
      this.#offline(sim, -Math.log(1 - this.#random()) * churn.meanDowntimeMs)
    }
  }

  #connect(sim: SimDevice): void {
    if (this.#closing !== undefined) {
      this.#queue.done()
      return
    }
    sim.status = 'connecting'
    this.#links.connect(sim)
  }

  /** A connect slot is free: the next device waiting takes it now, not at the next tick. */
  #slotFreed(): void {
    this.#queue.done()
    if (this.#closing === undefined) this.#queue.pump(this.#scheduler.now())
  }

  #online(sim: SimDevice): void {
    this.#slotFreed()
    sim.status = 'online'
    sim.attempt = 0
    this.#connected++
    this.#counters.connects++
    this.#counters.connectRate.add(this.#scheduler.now())
    this.#wake()
  }

  #connectFailed(sim: SimDevice, error: LinkkitError): void {
    this.#slotFreed()
    this.#counters.connectFailures++
    this.#counters.error(error.code)
    if (this.#closing !== undefined) return
    sim.attempt++
    this.#later(sim, backoffDelay(sim.attempt, this.#o.backoff, this.#random))
  }

  /** The device lost its connection without the fleet asking: it reconnects after a backoff. */
  #lost(sim: SimDevice): void {
    this.#counters.disconnects++
    this.#offline(sim, backoffDelay(1, this.#o.backoff, this.#random))
  }

  /** Takes an online device offline (ending its connection) and queues it again after `delayMs`. */
  #offline(sim: SimDevice, delayMs: number): void {
    if (sim.status === 'online') this.#connected--
    this.#detach(sim)
    this.#later(sim, delayMs)
  }

  #later(sim: SimDevice, delayMs: number): void {
    sim.status = 'offline'
    this.#scheduler.after(delayMs, () => {
      if (this.#closing !== undefined || sim.status !== 'offline') return
      sim.status = 'queued'
      this.#queue.push(sim)
    })
  }

  /** Ends the device's connection, its upgrade and its waiting posts; nothing of it reaches the fleet any more. */
  #detach(sim: SimDevice): void {
    if (sim.status === 'connecting') this.#queue.done()
    stopUpgrade(sim)
    this.#thing.lose(sim)
    const closing = this.#links.end(sim)
    if (closing === undefined) return
    this.#closings.add(closing)
    void closing.finally(() => this.#closings.delete(closing))
  }

  #wake(): void {
    if (this.#waiters.length === 0) return
    const ready = this.#waiters.filter((w) => w.count <= this.#connected)
    this.#waiters = this.#waiters.filter((w) => w.count > this.#connected)
    for (const w of ready) w.resolve()
  }

  /** Takes every device offline (a clean MQTT DISCONNECT each) and stops the timer. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#close()
    return this.#closing
  }

  async #close(): Promise<void> {
    this.#scheduler.stop()
    this.#queue.clear()
    const closed = new LinkkitErrorClass('ERR_CLOSED', 'the fleet was closed')
    for (const w of this.#waiters) w.reject(closed)
    this.#waiters = []
    for (const sim of this.#sims) {
      this.#detach(sim)
      sim.status = 'closed'
    }
    this.#connected = 0
    while (this.#closings.size > 0) await Promise.all([...this.#closings])
    this.#logger.info({ devices: this.#sims.length }, 'fleet closed')
  }

  /** Same as `close()`, for `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }
}

/**
 * Starts a fleet of simulated devices against one broker and resolves once it is connecting (see
 * `fleet.whenConnected()`). Invalid options reject with ERR_INVALID_OPTIONS; a thing model that
 * cannot be read, with ERR_TSL_INVALID.
 */
export function simulateFleet(options: FleetOptions): Promise<Fleet> {
  return Fleet.start(options)
}
