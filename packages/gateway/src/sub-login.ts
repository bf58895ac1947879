import { type Connection, isLinkkitError, LinkkitError, type SignMethod, WireCodes } from '@linkkit/core'
import type { Logger } from 'pino'
import type { SubDeviceCredentials } from './gateway-requests.js'
import type { SubDevice } from './sub-device.js'
import type { SubDeviceOptions } from './types.js'

/** What a sub-device asks of its manager; the gateway-level requests are batched there. */
export interface SubDeviceHost {
  readonly gateway: Connection
  readonly logger: Logger
  register(sub: SubDevice, productSecret: string | undefined): Promise<string>
  addTopo(sub: SubDevice): Promise<void>
  login(sub: SubDevice): Promise<void>
  logout(sub: SubDevice): Promise<void>
  removeTopo(sub: SubDevice): Promise<void>
  /**
   * Subscribes the disable / enable / delete notices of a sub-device without a session (while it
   * is logged in, its namespace subscription carries them): a disabled one waits for `enable`.
   */
  watch(sub: SubDevice): Promise<void>
  unwatch(sub: SubDevice): Promise<void>
  forget(sub: SubDevice): void
}

/** What topology add and login are signed with: the options' identity and the secret known now. */
export function subDeviceCredentials(
  options: Readonly<SubDeviceOptions>,
  deviceSecret: string | undefined,
): SubDeviceCredentials {
  if (deviceSecret === undefined)
    throw new LinkkitError('ERR_INVALID_OPTIONS', 'the sub-device has no secret yet')
  return {
    productKey: options.productKey,
    deviceName: options.deviceName,
    deviceSecret,
    signMethod: options.signMethod ?? ('hmacsha256' satisfies SignMethod),
    cleanSession: options.cleanSession ?? true,
  }
}

/** Logs `sub` in again; when the platform forgot it from the topology (`topoNotExist`), adds it back first. */
export async function loginAgain(host: SubDeviceHost, sub: SubDevice): Promise<void> {
  await host.login(sub).catch(async (error: unknown) => {
    if (!isLinkkitError(error, 'ERR_REPLY') || error.replyCode !== WireCodes.topoNotExist) throw error
    await host.addTopo(sub)
    await host.login(sub)
  })
}

/**
 * Logs `sub` out (`combine.logout`) and resolves with what went wrong, if anything: a reply of
 * `noSession` means the platform had already ended the session, which is what was asked.
 */
export async function logoutOnce(host: SubDeviceHost, sub: SubDevice): Promise<unknown> {
  let failure: unknown
  await host.logout(sub).catch((error: unknown) => {
    if (!isLinkkitError(error, 'ERR_REPLY') || error.replyCode !== WireCodes.noSession) failure = error
  })
  return failure
}
