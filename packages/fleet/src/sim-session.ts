import { type LinkkitError, toLinkkitError } from '@linkkit/core'
import {
  type Device,
  type FirmwareOffer,
  type FotaProgress,
  linkkit,
  type ServiceHandler,
  type ThingModel,
} from '@linkkit/sdk'
import type { Counters } from './metrics.js'
import type { ResolvedFleetOptions } from './options.js'
import type { SimDevice } from './sim-device.js'
import { type Random, sampleParams } from './values.js'

/** Codes of a post that did not fail: the device went offline while it waited (churn, a drop, close). */
const LOST = new Set(['ERR_CLOSED', 'ERR_NOT_CONNECTED', 'ERR_CONNECTION'])

/**
 * Opens the session of one simulated device: a real `linkkit.open()` device that reconnects only
 * through the fleet's queue, with the fleet's shared listeners (`this` is the SimDevice) and
 * service handlers. Nothing is connected yet.
 */
export function openSession(
  sim: SimDevice,
  o: Readonly<ResolvedFleetOptions>,
  model: ThingModel | undefined,
  services: ReadonlyArray<readonly [string, ServiceHandler]>,
  counters: Counters,
): Device {
  const device = linkkit.open({
    ...sim.triple,
    brokerUrl: o.url,
    ...(o.tls ? { tls: o.tls } : {}),
    keepaliveSeconds: o.keepaliveSeconds,
    requestTimeoutMs: o.requestTimeoutMs,
    // Every reconnect goes through the fleet's queue, so a broker restart is no connect storm.
    reconnect: false,
    ...(model ? { thingModel: model } : {}),
    firmware: { version: sim.version, allowHttp: o.allowHttp },
  })
  device.on('disconnected', onDisconnected, sim)
  device.on('error', onError, sim)
  device.on('fota', onFota, sim)
  device.on('fota:progress', onProgress, sim)
  if (model !== undefined) {
    device.onPropertySet((props) => {
      sim.sets = { ...sim.sets, ...props }
      counters.propertySets++
    })
    for (const [id, handler] of services) device.onService(id, handler)
  }
  return device
}

/** One handler per service of the model (built-in ones aside), shared by every device: it answers generated output. */
export function serviceHandlers(
  model: ThingModel | undefined,
  counters: Counters,
  random: Random,
): Array<[string, ServiceHandler]> {
  return (model?.services ?? [])
    .filter((s) => !s.builtIn)
    .map((s) => [
      s.identifier,
      () => {
        counters.services++
        return sampleParams(s.outputData, random)
      },
    ])
}

/** Posts generated values (and those the cloud set) once, counting the outcome; `sentAt` is the fleet clock. */
export function postOnce(
  sim: SimDevice,
  device: Device,
  model: ThingModel,
  random: Random,
  counters: Counters,
  clock: { now(): number },
  sentAt: number,
): void {
  const values = sampleParams(model.properties, random)
  if (sim.sets !== undefined) Object.assign(values, sim.sets)
  counters.postsSent++
  device.postProperties(values, { queueOffline: false }).then(
    () => {
      counters.postsAnswered++
      const at = clock.now()
      counters.roundTrips.add(at - sentAt)
      counters.postRate.add(at)
    },
    (error: unknown) => {
      const code = toLinkkitError(error, 'ERR_INTERNAL').code
      if (LOST.has(code)) counters.postsLost++
      else {
        counters.postsFailed++
        counters.error(code)
      }
    },
  )
}

// The listeners are shared by every device: `this` is the SimDevice, which knows its fleet.
function onDisconnected(this: SimDevice): void {
  this.host.lost(this)
}

function onError(this: SimDevice, error: LinkkitError): void {
  this.host.error(error)
}

function onFota(this: SimDevice, offer: FirmwareOffer): void {
  this.host.offer(this, offer)
}

function onProgress(this: SimDevice, progress: FotaProgress): void {
  if (this.otaStep !== undefined && this.otaStep >= 0 && this.otaStep < 100) {
    this.otaStep = Math.min(99, progress.percent)
  }
}
