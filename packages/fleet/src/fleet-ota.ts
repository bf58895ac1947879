import { toLinkkitError } from '@linkkit/core'
import {
  type Device,
  type FirmwareOffer,
  type FirmwarePersistence,
  type FlashSimPersistence,
  MemoryPersistence,
  OtaProgress,
} from '@linkkit/sdk'
import { FaultyPersistence } from './faults.js'
import { type Counters, UPGRADED } from './metrics.js'
import type { ResolvedFleetOptions } from './options.js'
import type { SimDevice } from './sim-device.js'

/** What the OTA part uses of its fleet. */
export interface OtaHost {
  options: Readonly<ResolvedFleetOptions>
  counters: Counters
  /** The device restarts into its new version: its session ends and it queues to connect again. */
  reboot(sim: SimDevice): void
}

function noop(): void {}

/**
 * A device takes an offer: refused at once by a `refuse` fault; else downloaded into its store
 * (a stall or fail fault wraps it), then installed, and the device reboots into the new version
 * (its next connect informs it, which ends the platform's job as succeeded).
 */
export function offerReceived(host: OtaHost, sim: SimDevice, device: Device, offer: FirmwareOffer): void {
  host.counters.otaOffers++
  // One upgrade at a time; the platform re-offers what is still pending later. An offer of the
  // version it runs already (re-offered at its reconnect, before its inform ended the job) is moot.
  if (sim.download !== undefined || offer.version === sim.version) return
  if (sim.fault?.kind === 'refuse') {
    sim.otaStep = OtaProgress.GeneralFailed
    host.counters.otaFailed++
    device.fota.reportProgress(OtaProgress.GeneralFailed, 'refused (injected fault)').catch(noop)
    return
  }
  const download = new AbortController()
  sim.download = download
  sim.otaStep = 0
  void upgrade(host, sim, device, offer, download)
}

async function upgrade(
  host: OtaHost,
  sim: SimDevice,
  device: Device,
  offer: FirmwareOffer,
  download: AbortController,
): Promise<void> {
  const { store, maxImageBytes } = host.options
  let chip: FlashSimPersistence | undefined
  try {
    let persistence: FirmwarePersistence
    if (store === 'memory') persistence = new MemoryPersistence({ maxSizeBytes: maxImageBytes })
    else {
      chip = await store.acquire(download.signal)
      persistence = chip
    }
    if (sim.fault !== undefined) persistence = new FaultyPersistence(persistence, sim.fault, download.signal)
    await device.fota.download(offer, { persistence, signal: download.signal })
    sim.otaStep = 100
    if (chip !== undefined) {
      // The simulated chip boots the new image on trial and keeps it: what a device does before it informs.
      await chip.activate()
      await chip.boot()
      await chip.confirm()
    }
    if (sim.download !== download) return
    sim.download = undefined
    sim.version = offer.version
    sim.otaStep = UPGRADED
    host.counters.otaSucceeded++
    host.reboot(sim)
  } catch (error) {
    const code = toLinkkitError(error, 'ERR_DOWNLOAD_FAILED').code
    // Interrupted because the device went offline: the platform's job stays open and is offered again.
    if (download.signal.aborted || code === 'ERR_CLOSED') return
    sim.otaStep = failureStep(code)
    host.counters.otaFailed++
    host.counters.error(code)
  } finally {
    if (chip !== undefined && store !== 'memory') store.release(chip)
    if (sim.download === download) sim.download = undefined
  }
}

/** The step the SDK reports for a failed download (docs/protocol.md §3.5), for the fleet's histogram. */
function failureStep(code: string): number {
  if (code.startsWith('ERR_PERSISTENCE') || code === 'ERR_FLASH_POWER_CUT') return OtaProgress.BurnFailed
  if (code === 'ERR_DIGEST_MISMATCH' || code === 'ERR_SIZE_MISMATCH') return OtaProgress.CheckFailed
  if (code.startsWith('ERR_DOWNLOAD') || code === 'ERR_HTTP_NOT_ALLOWED') return OtaProgress.FetchFailed
  return OtaProgress.GeneralFailed
}
