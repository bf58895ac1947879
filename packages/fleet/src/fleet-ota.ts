import { type LinkkitError, parseJson, toLinkkitError } from '@linkkit/core'
import {
  type FirmwareOffer,
  type FirmwarePersistence,
  type FlashSimPersistence,
  FotaClient,
  type FotaProgress,
  MemoryPersistence,
  OtaProgress,
  parseUpgradePush,
} from '@linkkit/fota'
import { FaultyPersistence } from './faults.js'
import { type Counters, UPGRADED } from './metrics.js'
import type { ResolvedFleetOptions } from './options.js'
import type { SimDevice } from './sim-device.js'
import { SimSession, type SimSessionSettings } from './sim-session.js'

/** What the OTA part uses of its fleet. */
export interface OtaHost {
  options: Readonly<ResolvedFleetOptions>
  counters: Counters
  session: SimSessionSettings
  /** The device restarts into its new version: its session ends and it queues to connect again. */
  reboot(sim: SimDevice): void
}

/** An upgrade under way: stopped by `abort` when the device goes offline or the fleet closes. */
export interface SimOta {
  readonly download: AbortController
  readonly session: SimSession
}

function noop(): void {}

/**
 * An upgrade push for the device (`/ota/device/upgrade/{pk}/{dn}`): refused at once by a `refuse`
 * fault; else downloaded into its store (a stall or fail fault wraps it), then installed, and the
 * device reboots into the new version (its next connect informs it, which ends the platform's job
 * as succeeded). The device's `Session` and `FotaClient` exist only while this runs.
 */
export function offerReceived(host: OtaHost, sim: SimDevice, topic: string, payload: Buffer): void {
  host.counters.otaOffers++
  let offer: FirmwareOffer
  try {
    offer = parseUpgradePush(parseJson(payload, topic))
  } catch (error) {
    host.counters.error(toLinkkitError(error, 'ERR_OFFER_INVALID').code)
    return
  }
  // One upgrade at a time; the platform re-offers what is still pending later. An offer of the
  // version it runs already (re-offered at its reconnect, before its inform ended the job) is moot.
  const client = sim.client
  if (sim.ota !== undefined || offer.version === sim.version || client === undefined) return
  const session = new SimSession(sim, client, host.session)
  const fota = new FotaClient(session, { version: sim.version, allowHttp: host.options.allowHttp })
  fota.on('error', noop) // each failure is counted once, from the download's rejection
  if (sim.fault?.kind === 'refuse') {
    sim.otaStep = OtaProgress.GeneralFailed
    host.counters.otaFailed++
    void fota
      .reportProgress(OtaProgress.GeneralFailed, 'refused (injected fault)')
      .catch(noop)
      .finally(() => session.close())
    return
  }
  const ota: SimOta = { download: new AbortController(), session }
  sim.ota = ota
  sim.otaStep = 0
  fota.on('fota:progress', onProgress, sim)
  void upgrade(host, sim, fota, offer, ota)
}

function onProgress(this: SimDevice, progress: FotaProgress): void {
  if (this.otaStep !== undefined && this.otaStep >= 0 && this.otaStep < 100) {
    this.otaStep = Math.min(99, progress.percent)
  }
}

/** Stops the device's upgrade (it went offline, or the fleet closes); the platform offers it again later. */
export function stopUpgrade(sim: SimDevice): void {
  const ota = sim.ota
  if (ota === undefined) return
  sim.ota = undefined
  ota.download.abort()
  ota.session.close()
}

async function upgrade(
  host: OtaHost,
  sim: SimDevice,
  fota: FotaClient,
  offer: FirmwareOffer,
  ota: SimOta,
): Promise<void> {
  const { store, maxImageBytes } = host.options
  const { signal } = ota.download
  let chip: FlashSimPersistence | undefined
  try {
    let persistence: FirmwarePersistence
    if (store === 'memory') persistence = new MemoryPersistence({ maxSizeBytes: maxImageBytes })
    else {
      chip = await store.acquire(signal)
      persistence = chip
    }
    if (sim.fault !== undefined) persistence = new FaultyPersistence(persistence, sim.fault, signal)
    await fota.download(offer, { persistence, signal })
    sim.otaStep = 100
    if (chip !== undefined) {
      // The simulated chip boots the new image on trial and keeps it: what a device does before it informs.
      await chip.activate()
      await chip.boot()
      await chip.confirm()
    }
    if (sim.ota !== ota) return
    sim.version = offer.version
    sim.otaStep = UPGRADED
    host.counters.otaSucceeded++
    stopUpgrade(sim)
    host.reboot(sim)
  } catch (error) {
    const code = toLinkkitError(error, 'ERR_DOWNLOAD_FAILED').code
    // Interrupted because the device went offline: the platform's job stays open and is offered again.
    if (signal.aborted || code === 'ERR_CLOSED') return
    sim.otaStep = failureStep(code)
    host.counters.otaFailed++
    host.counters.error(code)
  } finally {
    if (chip !== undefined && store !== 'memory') store.release(chip)
    if (sim.ota === ota) stopUpgrade(sim)
    void fota.close().catch(noop)
  }
}

/** The step the SDK reports for a failed download (docs/protocol.md §3.5), for the fleet's histogram. */
function failureStep(code: LinkkitError['code']): number {
  if (code.startsWith('ERR_PERSISTENCE') || code === 'ERR_FLASH_POWER_CUT') return OtaProgress.BurnFailed
  if (code === 'ERR_DIGEST_MISMATCH' || code === 'ERR_SIZE_MISMATCH') return OtaProgress.CheckFailed
  if (code.startsWith('ERR_DOWNLOAD') || code === 'ERR_HTTP_NOT_ALLOWED') return OtaProgress.FetchFailed
  return OtaProgress.GeneralFailed
}
