import type { FirmwareOffer, ThingModel } from '@linkkit/sdk'
import { type Device, linkkit } from '@linkkit/sdk'
import type { LogLevel } from '../log-level.js'
import type { DeviceReport } from './device-report.js'
import type { Booted, FirmwareSlot } from './firmware-slot.js'
import { sampleParams } from './tsl-values.js'

export interface SimulatedDeviceOptions {
  productKey: string
  deviceName: string
  deviceSecret: string
  brokerUrl: string
  thingModel: ThingModel | undefined
  /** The version that runs when the slot does not say otherwise. */
  version: string
  slot: FirmwareSlot
  allowHttp: boolean
  intervalMs: number
  logLevel: LogLevel
}

/**
 * Runs a device until `signal` aborts: boots from the slot, connects, posts properties, answers
 * services and, after a verified download, installs the image and reboots (a new session that
 * informs the new version). Rejects when the platform refuses the device for good.
 */
export async function runSimulatedDevice(
  o: SimulatedDeviceOptions,
  report: DeviceReport,
  signal: AbortSignal,
): Promise<void> {
  let version = o.version
  try {
    while (!signal.aborted) {
      const booted = await o.slot.boot(version)
      if (booted.note !== undefined) report.booted(booted.note)
      const next = await runSession(o, booted, report, signal)
      if (next === undefined) break
      report.rebooting(next)
      version = next
    }
  } finally {
    await o.slot.close()
    report.closed()
  }
}

/** One boot of the device; resolves with the version to reboot into, or undefined when stopped. */
async function runSession(
  o: SimulatedDeviceOptions,
  booted: Booted,
  report: DeviceReport,
  signal: AbortSignal,
): Promise<string | undefined> {
  const device = linkkit.open({
    productKey: o.productKey,
    deviceName: o.deviceName,
    deviceSecret: o.deviceSecret,
    brokerUrl: o.brokerUrl,
    ...(o.thingModel === undefined ? {} : { thingModel: o.thingModel }),
    firmware: { version: booted.version, persistence: booted.persistence, allowHttp: o.allowHttp },
    logger: o.logLevel,
  })
  let end: (version: string | undefined) => void = () => {}
  let fail: (error: unknown) => void = () => {}
  const ended = new Promise<string | undefined>((resolve, reject) => {
    end = resolve
    fail = reject
  })
  const downloads = new AbortController()
  const stop = () => end(undefined)
  let timer: NodeJS.Timeout | undefined
  let closing = false
  let downloading: string | undefined
  try {
    const post = answerThingModel(device, o.thingModel, report)
    device.on('fota', (offer) => upgrade(offer))
    device.on('fota:progress', (progress) => report.progress(progress))
    device.on('error', (error) => report.warn(`${error.code}: ${error.message}`))
    device.on('reconnecting', ({ attempt, delayMs }) =>
      report.connection('reconnecting', `(attempt ${attempt}, in ${delayMs} ms)`),
    )
    device.on('connected', ({ reconnect }) => {
      if (reconnect) report.connection('reconnected')
    })
    device.on('disconnected', ({ error }) => {
      if (error !== undefined) fail(error)
      else if (!closing) report.connection('disconnected')
    })
    signal.addEventListener('abort', stop, { once: true })
    if (signal.aborted) return undefined
    const connecting = device.connect()
    connecting.catch(() => {})
    await Promise.race([connecting, ended])
    if (signal.aborted) return undefined
    const { brokerUrl, productKey, deviceName } = o
    report.connected({
      brokerUrl,
      productKey,
      deviceName,
      version: booted.version,
      persistence: o.slot.label,
    })
    if (post !== undefined) {
      post()
      timer = setInterval(post, o.intervalMs)
    }
    return await ended
  } finally {
    clearInterval(timer)
    signal.removeEventListener('abort', stop)
    downloads.abort()
    closing = true
    await device.close()
  }

  function upgrade(offer: FirmwareOffer): void {
    if (offer.module !== undefined && offer.module !== 'default') {
      report.warn(`ignoring an offer for module ${offer.module}: the simulated device has only its firmware`)
      return
    }
    if (downloading !== undefined) {
      report.warn(`offer of ${offer.version} ignored: ${downloading} is downloading`)
      return
    }
    downloading = offer.version
    report.offer(offer)
    device.fota
      .download(offer, { signal: downloads.signal })
      .then(async (result) => {
        report.downloaded(result)
        end(await o.slot.install(result.version))
      })
      .catch((error: unknown) => {
        if (!downloads.signal.aborted) report.fotaFailed(error)
      })
      .finally(() => {
        downloading = undefined
      })
  }
}

/**
 * Answers every service of the thing model with output drawn within its specs, keeps the values
 * the cloud sets, and returns the periodic property post (undefined without a thing model).
 */
function answerThingModel(
  device: Device,
  model: ThingModel | undefined,
  report: DeviceReport,
): (() => void) | undefined {
  if (model === undefined) return undefined
  const set: Record<string, unknown> = {}
  device.onPropertySet((props) => {
    Object.assign(set, props)
    report.propertySet(props)
  })
  for (const service of model.services) {
    if (service.builtIn) continue
    device.onService(service.identifier, (params) => {
      const output = sampleParams(service.outputData)
      report.service(service.identifier, params, output)
      return output
    })
  }
  return () => {
    if (!device.connected) return
    const properties = { ...sampleParams(model.properties), ...set }
    device.postProperties(properties).then(
      () => report.posted(properties),
      (error: unknown) => report.warn(`property post failed: ${(error as Error).message}`),
    )
  }
}
