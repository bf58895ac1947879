import { createHash } from 'node:crypto'
import { LinkkitError } from '@linkkit/core'
import type { OtaRollout, RolloutOptions } from './rollout-types.js'

const invalid = (message: string, field: string) =>
  new LinkkitError('ERR_INVALID_ARGUMENT', message, { details: { field } })

/** What selection needs of the platform: the product's device names and a device's tags. */
export interface SelectionSource {
  /** Names of the product's devices. */
  deviceNames(productKey: string): string[]
  /** The device's tags, if it reported any. */
  tags(productKey: string, deviceName: string): Record<string, string> | undefined
}

/**
 * The devices a rollout targets, in the order it starts them, and how they were chosen.
 * ERR_INVALID_ARGUMENT unless exactly one of percent, deviceNames and tag is given and valid, and
 * when it selects no device.
 */
export function selectDevices(
  options: RolloutOptions,
  source: SelectionSource,
): { devices: string[]; target: OtaRollout['target'] } {
  const { productKey, percent, deviceNames, tag } = options
  const given = [percent, deviceNames, tag].filter((v) => v !== undefined).length
  if (given !== 1) throw invalid('give exactly one of percent, deviceNames and tag', 'target')
  const all = source.deviceNames(productKey)
  let devices: string[]
  let target: OtaRollout['target']
  if (percent !== undefined) {
    if (typeof percent !== 'number' || !(percent > 0 && percent <= 100)) {
      throw invalid('percent must be a number above 0 and at most 100', 'percent')
    }
    // Ordered by a hash of the name: the same share picks the same devices, a larger one a superset.
    const ranked = all
      .map((name) => ({ name, rank: createHash('sha256').update(`${productKey}/${name}`).digest('hex') }))
      .sort((a, b) => (a.rank < b.rank ? -1 : a.rank > b.rank ? 1 : 0))
    devices = ranked.slice(0, Math.ceil((ranked.length * percent) / 100)).map((d) => d.name)
    target = { percent }
  } else if (deviceNames !== undefined) {
    if (!Array.isArray(deviceNames) || deviceNames.some((n) => typeof n !== 'string')) {
      throw invalid('deviceNames must be an array of device names', 'deviceNames')
    }
    const known = new Set(all)
    const unknown = deviceNames.find((n) => !known.has(n))
    if (unknown !== undefined) throw invalid(`unknown device ${productKey}/${unknown}`, 'deviceNames')
    devices = [...new Set(deviceNames)]
    target = { deviceNames: [...devices] }
  } else {
    if (typeof tag !== 'string' || tag === '' || tag.startsWith('=')) {
      throw invalid('tag must be "key" or "key=value"', 'tag')
    }
    const at = tag.indexOf('=')
    const key = at < 0 ? tag : tag.slice(0, at)
    const value = at < 0 ? undefined : tag.slice(at + 1)
    devices = all.filter((name) => {
      const tags = source.tags(productKey, name) ?? {}
      return Object.hasOwn(tags, key) && (value === undefined || tags[key] === value)
    })
    target = { tag }
  }
  if (devices.length === 0) throw invalid(`the rollout selects no device of ${productKey}`, 'target')
  return { devices, target }
}

/** Failures that pause a rollout of `total` devices: a count, or `'N%'` of them (at least 1). */
export function failureThreshold(value: number | string | undefined, total: number): number | undefined {
  if (value === undefined) return undefined
  const text = typeof value === 'number' ? String(value) : value.trim()
  const share = /^(\d+(?:\.\d+)?)%$/.exec(text)
  if (share !== null) {
    const p = Number(share[1])
    if (!(p > 0 && p <= 100))
      throw invalid('pauseOnFailure must be a share above 0% and at most 100%', 'pauseOnFailure')
    return Math.max(1, Math.ceil((total * p) / 100))
  }
  if (/^\d+$/.test(text) && Number(text) >= 1 && Number.isSafeInteger(Number(text))) return Number(text)
  throw invalid('pauseOnFailure must be a count of at least 1 or a share such as "5%"', 'pauseOnFailure')
}
