import type { RolloutOptions } from '../ota/rollout-types.js'
import {
  badRequest,
  compact,
  type JsonObject,
  notFound,
  onlyFields,
  optionalString,
  requiredString,
} from './control-input.js'
import type { ControlHost, ControlReply, ControlRoute } from './control-routes.js'

const ok = (body: unknown, status = 200): ControlReply => ({ status, body })

function optionalNumber(body: JsonObject, name: string): number | undefined {
  const value = body[name]
  if (value === undefined) return undefined
  if (typeof value !== 'number' || !Number.isFinite(value)) throw badRequest(`${name} must be a number`)
  return value
}

function optionalNames(body: JsonObject): string[] | undefined {
  const value = body.deviceNames
  if (value === undefined) return undefined
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string') || value.length > 100_000) {
    throw badRequest('deviceNames must be an array of strings')
  }
  return value as string[]
}

function pauseOnFailure(body: JsonObject): number | string | undefined {
  const value = body.pauseOnFailure
  if (value === undefined || typeof value === 'number' || typeof value === 'string') return value
  throw badRequest('pauseOnFailure must be a count or a share such as "5%"')
}

/**
 * The rollout endpoints below `/control/`: `POST rollouts` `{ productKey, firmwareId, percent |
 * deviceNames | tag, maxConcurrent?, pauseOnFailure?, srcVersion?, timeoutMs? }` (201),
 * `GET rollouts?productKey=`, `GET rollouts/:id`, `POST rollouts/:id/pause`, `POST rollouts/:id/resume`,
 * `POST rollouts/:id/cancel` `{ reason? }`. Any node of a platform on Redis answers for any rollout.
 */
export function rolloutRoutes(emu: ControlHost): ControlRoute[] {
  const known = (id: string) => {
    if (emu.ota.rollouts.get(id) === undefined) throw notFound(`no rollout ${id}`)
    return id
  }
  return [
    {
      method: 'POST',
      pattern: 'rollouts',
      handle: async ({ body }) => {
        const input = await body()
        onlyFields(input, [
          'productKey',
          'firmwareId',
          'percent',
          'deviceNames',
          'tag',
          'maxConcurrent',
          'pauseOnFailure',
          'srcVersion',
          'timeoutMs',
        ])
        const firmwareId = requiredString(input, 'firmwareId')
        if (emu.ota.firmware(firmwareId) === undefined) throw notFound(`no firmware ${firmwareId}`)
        const options: RolloutOptions = {
          productKey: requiredString(input, 'productKey'),
          firmware: { id: firmwareId },
          ...compact({
            percent: optionalNumber(input, 'percent'),
            deviceNames: optionalNames(input),
            tag: optionalString(input, 'tag'),
            maxConcurrent: optionalNumber(input, 'maxConcurrent'),
            pauseOnFailure: pauseOnFailure(input),
            srcVersion: optionalString(input, 'srcVersion'),
            timeoutMs: optionalNumber(input, 'timeoutMs'),
          }),
        }
        return ok(await emu.ota.rollout(options), 201)
      },
    },
    {
      method: 'GET',
      pattern: 'rollouts',
      handle: async ({ query }) => {
        const productKey = query.get('productKey') || undefined
        return ok({ rollouts: emu.ota.rollouts.list(compact({ productKey })) })
      },
    },
    {
      method: 'GET',
      pattern: 'rollouts/:id',
      handle: async ({ params }) => ok(emu.ota.rollouts.get(known(params.id ?? ''))),
    },
    {
      method: 'POST',
      pattern: 'rollouts/:id/pause',
      handle: async ({ params, body }) => {
        onlyFields(await body(), [])
        return ok(await emu.ota.rollouts.pause(known(params.id ?? '')))
      },
    },
    {
      method: 'POST',
      pattern: 'rollouts/:id/resume',
      handle: async ({ params, body }) => {
        onlyFields(await body(), [])
        return ok(await emu.ota.rollouts.resume(known(params.id ?? '')))
      },
    },
    {
      method: 'POST',
      pattern: 'rollouts/:id/cancel',
      handle: async ({ params, body }) => {
        const input = await body()
        onlyFields(input, ['reason'])
        const id = known(params.id ?? '')
        const reason = optionalString(input, 'reason')
        return ok(
          await (reason === undefined ? emu.ota.rollouts.cancel(id) : emu.ota.rollouts.cancel(id, reason)),
        )
      },
    },
  ]
}
