import { randomBytes } from 'node:crypto'
import { isLinkkitError, WireCodes } from '@linkkit/core'
import type { DeviceRegistry, DeviceState } from './registry.js'
import { type HmacMethod, hmacMatches } from './signing/hmac.js'
import { signContent } from './signing/sign-content.js'
import type { ProductRecord } from './types.js'

/**
 * Reply codes of dynamic registration, taken from the platform's code table (docs/protocol.md §2.4).
 * The platform's own code for "already activated" is not documented there; the emulator answers 400.
 */
export const RegisterCode = {
  /** Registered; the answer carries the secret. */
  Success: 200,
  /** The device is already activated; it registers no more. */
  AlreadyActivated: WireCodes.requestError,
  /** The signature does not match the product secret. */
  BadSign: WireCodes.authError,
  /** Params missing or malformed. */
  InvalidParams: WireCodes.invalidParams,
  /** No such device, and the product does not create devices on the fly. */
  DeviceNotFound: WireCodes.deviceNotFound,
  /** The device is disabled. */
  DeviceDisabled: WireCodes.deviceDisabled,
  /** No such product, or it has no product secret. */
  ProductNotFound: WireCodes.productNotFound,
} as const
export type RegisterCode = (typeof RegisterCode)[keyof typeof RegisterCode]

export interface RegisterRequest {
  productKey: string | undefined
  deviceName: string | undefined
  random: string | undefined
  sign: string | undefined
  signMethod: HmacMethod | undefined
}

export type RegisterOutcome =
  | { ok: true; productKey: string; deviceName: string; deviceSecret: string }
  | { ok: false; code: Exclude<RegisterCode, 200>; message: string }

function fail(code: Exclude<RegisterCode, 200>, message: string): RegisterOutcome {
  return { ok: false, code, message }
}

/**
 * Whether a gateway may obtain this device's secret with `thing.sub.register`, which carries no
 * proof of any secret: when its product allows dynamic registration, or when the device was listed
 * without a secret (it can get one in no other way). A device provisioned with its own secret in a
 * product without dynamic registration keeps it to itself.
 */
export function allowsSubRegistration(product: ProductRecord | undefined, device: DeviceState): boolean {
  return product?.dynamicRegistration === true || device.secretSource !== 'preset'
}

/** A fresh 32-hex-digit device secret. */
export function newDeviceSecret(): string {
  return randomBytes(16).toString('hex')
}

/**
 * "One product one secret" pre-registration (docs/protocol.md §1.4): sign = HMAC(productSecret,
 * "deviceName<dn>productKey<pk>random<r>"). A listed device without a secret, or not yet activated,
 * gets a new secret each time ("the last secret wins"); a listed device with a preset secret gets
 * that secret; an unlisted name is created only when its product has `dynamicRegistration`.
 */
export function registerDevice(registry: DeviceRegistry, req: RegisterRequest): RegisterOutcome {
  const { productKey, deviceName, random, sign, signMethod } = req
  if (!productKey || !deviceName || !random || !sign || signMethod === undefined) {
    return fail(
      RegisterCode.InvalidParams,
      'productKey, deviceName, random, sign and signMethod are required',
    )
  }
  const product = registry.product(productKey)
  if (product?.productSecret === undefined) return fail(RegisterCode.ProductNotFound, 'product not found')
  const content = signContent({ deviceName, productKey, random })
  if (!hmacMatches(signMethod, product.productSecret, content, sign))
    return fail(RegisterCode.BadSign, 'sign mismatch')

  let device = registry.get(productKey, deviceName)
  if (device === undefined) {
    if (product.dynamicRegistration !== true) return fail(RegisterCode.DeviceNotFound, 'device not found')
    try {
      device = registry.addDevice({ productKey, deviceName })
    } catch (error) {
      if (isLinkkitError(error, 'ERR_INVALID_TOPIC_VALUE'))
        return fail(RegisterCode.InvalidParams, error.message)
      throw error
    }
  }
  if (device.disabled) return fail(RegisterCode.DeviceDisabled, 'device is disabled')
  if (device.activated) return fail(RegisterCode.AlreadyActivated, 'device is already activated')
  const preset = device.secretSource === 'preset' ? device.deviceSecret : undefined
  const deviceSecret = preset ?? newDeviceSecret()
  if (preset === undefined) {
    device.deviceSecret = deviceSecret
    device.secretSource = 'registered'
    registry.saveRecord(device)
  }
  return { ok: true, productKey, deviceName, deviceSecret }
}
