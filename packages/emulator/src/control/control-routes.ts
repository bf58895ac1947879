import type { Emulator } from '../emulator.js'
import { firmwareData, signMethod } from './control-firmware.js'
import {
  badRequest,
  compact,
  type JsonObject,
  notFound,
  onlyFields,
  optionalBoolean,
  optionalObject,
  optionalString,
  optionalTimeoutMs,
  requiredString,
} from './control-input.js'
import { rolloutRoutes } from './control-rollouts.js'
import { deviceSummary, deviceView, firmwareView } from './control-views.js'
import type { ReadFirmwareOptions } from './firmware-file.js'

/** What the control API uses of the emulator. */
export type ControlHost = Pick<
  Emulator,
  'registry' | 'device' | 'ota' | 'setProperties' | 'invokeService' | 'kick' | 'mqttUrl' | 'httpUrl'
>

export interface ControlRequest {
  params: Record<string, string>
  /** Aborted when the client goes away before the answer. */
  signal: AbortSignal
  query: URLSearchParams
  /** The JSON object body (POST only). */
  body: () => Promise<JsonObject>
}

export interface ControlReply {
  status: number
  body: unknown
}

export interface ControlRoute {
  method: 'GET' | 'POST'
  /** Path segments after `/control/`; `:name` captures one segment. */
  pattern: string
  /** Body limit of a POST; defaults to the API's general limit. */
  maxBodyBytes?: number
  handle(request: ControlRequest): Promise<ControlReply>
}

/** A push's `timeoutMs`: an integer from 1 to 2147483647 (the upgrade timeout, not a wait). */
function upgradeTimeoutMs(body: JsonObject): number | undefined {
  const value = body.timeoutMs
  if (value === undefined) return undefined
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1 || value > 2_147_483_647) {
    throw badRequest('timeoutMs must be an integer from 1 to 2147483647')
  }
  return value
}

/** Firmware bodies carry the image in base64, so they may be much larger than the other bodies. */
export const MAX_FIRMWARE_BODY_BYTES = 96 * 1024 * 1024

const ok = (body: unknown, status = 200): ControlReply => ({ status, body })

/**
 * The endpoints of the control API, below `/control/`:
 * `GET info`, `GET devices`, `GET devices/:pk/:dn`, `POST devices/:pk/:dn/properties`
 * `{ properties, timeoutMs? }`, `POST devices/:pk/:dn/services/:id` `{ params?, sync?, rrpc?, timeoutMs? }`,
 * `POST firmware` `{ productKey, version, module?, signMethod?, name?, isDiff?, extData?, securityVersion?, dataBase64 | path }` (201;
 * `path` only below `files.dir`),
 * `GET firmware/:id`, `POST push` `{ productKey, deviceName, firmwareId, srcVersion?, timeoutMs? }` (201),
 * `GET jobs?productKey=&deviceName=`, `GET jobs/:id`, `POST jobs/:id/cancel` `{ reason? }`,
 * `POST kick` `{ productKey, deviceName }`, and the rollout endpoints (`rolloutRoutes`).
 * Device replies to downlinks come back as they are (`{ id, code, data, message? }`), any code.
 */
export function controlRoutes(emu: ControlHost, files: Omit<ReadFirmwareOptions, 'signal'>): ControlRoute[] {
  const device = (params: Record<string, string>) => {
    const { pk = '', dn = '' } = params
    const snapshot = emu.device(pk, dn)
    if (snapshot === undefined) throw notFound(`unknown device ${pk}/${dn}`)
    return snapshot
  }
  return [
    {
      method: 'GET',
      pattern: 'info',
      handle: async () => ok({ mqttUrl: emu.mqttUrl, httpUrl: emu.httpUrl }),
    },
    {
      method: 'GET',
      pattern: 'devices',
      handle: async () => {
        const devices = [...emu.registry.all()].map((s) => device({ pk: s.productKey, dn: s.deviceName }))
        return ok({ devices: devices.map(deviceSummary) })
      },
    },
    {
      method: 'GET',
      pattern: 'devices/:pk/:dn',
      handle: async ({ params }) => ok(deviceView(device(params))),
    },
    {
      method: 'POST',
      pattern: 'devices/:pk/:dn/properties',
      handle: async ({ params, body }) => {
        const input = await body()
        onlyFields(input, ['properties', 'timeoutMs'])
        const properties = optionalObject(input, 'properties')
        if (properties === undefined) throw badRequest('properties must be a JSON object')
        const { productKey, deviceName } = device(params)
        const timeoutMs = optionalTimeoutMs(input)
        return ok(await emu.setProperties(productKey, deviceName, properties, compact({ timeoutMs })))
      },
    },
    {
      method: 'POST',
      pattern: 'devices/:pk/:dn/services/:id',
      handle: async ({ params, body }) => {
        const input = await body()
        onlyFields(input, ['params', 'sync', 'rrpc', 'timeoutMs'])
        const serviceParams = optionalObject(input, 'params') ?? {}
        const sync = optionalBoolean(input, 'sync')
        const rrpc = optionalString(input, 'rrpc')
        if (rrpc !== undefined && rrpc !== 'ext' && rrpc !== 'legacy')
          throw badRequest('rrpc must be "ext" or "legacy"')
        const timeoutMs = optionalTimeoutMs(input)
        const { productKey, deviceName } = device(params)
        const options = compact({ sync, rrpc: rrpc as 'ext' | 'legacy' | undefined, timeoutMs })
        return ok(await emu.invokeService(productKey, deviceName, params.id ?? '', serviceParams, options))
      },
    },
    {
      method: 'POST',
      pattern: 'firmware',
      maxBodyBytes: MAX_FIRMWARE_BODY_BYTES,
      handle: async ({ body, signal }) => {
        const input = await body()
        onlyFields(input, [
          'productKey',
          'version',
          'module',
          'signMethod',
          'name',
          'isDiff',
          'dataBase64',
          'path',
          'extData',
          'securityVersion',
        ])
        const extData = optionalObject(input, 'extData')
        const securityVersion = input.securityVersion
        if (securityVersion !== undefined && typeof securityVersion !== 'number') {
          throw badRequest('securityVersion must be a number')
        }
        const isDiff = optionalBoolean(input, 'isDiff')
        const name = optionalString(input, 'name')
        const module = optionalString(input, 'module')
        const firmware = await emu.ota.addFirmware({
          productKey: requiredString(input, 'productKey'),
          version: requiredString(input, 'version'),
          data: await firmwareData(input, { ...files, signal }),
          ...compact({
            signMethod: signMethod(optionalString(input, 'signMethod')),
            module,
            name,
            isDiff,
            extData,
            securityVersion,
          }),
        })
        return ok(firmwareView(firmware), 201)
      },
    },
    {
      method: 'GET',
      pattern: 'firmware/:id',
      handle: async ({ params }) => {
        const firmware = emu.ota.firmware(params.id ?? '')
        if (firmware === undefined) throw notFound(`no firmware ${params.id}`)
        return ok(firmwareView(firmware))
      },
    },
    {
      method: 'POST',
      pattern: 'push',
      handle: async ({ body }) => {
        const input = await body()
        onlyFields(input, ['productKey', 'deviceName', 'firmwareId', 'srcVersion', 'timeoutMs'])
        const firmwareId = requiredString(input, 'firmwareId')
        const firmware = emu.ota.firmware(firmwareId)
        if (firmware === undefined) throw notFound(`no firmware ${firmwareId}`)
        const { productKey, deviceName } = device({
          pk: requiredString(input, 'productKey'),
          dn: requiredString(input, 'deviceName'),
        })
        const srcVersion = optionalString(input, 'srcVersion')
        const timeoutMs = upgradeTimeoutMs(input)
        const job = await emu.ota.push({
          productKey,
          deviceName,
          firmware,
          ...compact({ srcVersion, timeoutMs }),
        })
        return ok(job, 201)
      },
    },
    {
      method: 'GET',
      pattern: 'jobs',
      handle: async ({ query }) => {
        const productKey = query.get('productKey') || undefined
        const deviceName = query.get('deviceName') || undefined
        return ok({ jobs: emu.ota.jobs(compact({ productKey, deviceName })) })
      },
    },
    {
      method: 'GET',
      pattern: 'jobs/:id',
      handle: async ({ params }) => {
        const job = emu.ota.job(params.id ?? '')
        if (job === undefined) throw notFound(`no OTA job ${params.id}`)
        return ok(job)
      },
    },
    {
      method: 'POST',
      pattern: 'jobs/:id/cancel',
      handle: async ({ params, body }) => {
        const id = params.id ?? ''
        if (emu.ota.job(id) === undefined) throw notFound(`no OTA job ${id}`)
        const input = await body()
        onlyFields(input, ['reason'])
        const reason = optionalString(input, 'reason')
        return ok(reason === undefined ? emu.ota.cancel(id) : emu.ota.cancel(id, reason))
      },
    },
    {
      method: 'POST',
      pattern: 'kick',
      handle: async ({ body }) => {
        const input = await body()
        onlyFields(input, ['productKey', 'deviceName'])
        const { productKey, deviceName } = device({
          pk: requiredString(input, 'productKey'),
          dn: requiredString(input, 'deviceName'),
        })
        return ok({ kicked: emu.kick(productKey, deviceName) })
      },
    },
    ...rolloutRoutes(emu),
  ]
}
