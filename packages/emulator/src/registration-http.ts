import type { IncomingMessage, ServerResponse } from 'node:http'
import { readBody, sendJson } from './http-router.js'
import { type RegisterOutcome, registerDevice } from './registration.js'
import type { DeviceRegistry } from './registry.js'
import { hmacMethodOf } from './signing/hmac.js'

/** Where the SDKs post an HTTPS dynamic registration (docs/protocol.md §1.4). */
export const REGISTER_PATH = '/auth/register/device'
/** A registration form is a few hundred bytes; larger bodies are answered 413. */
const MAX_BODY_BYTES = 64 * 1024

/**
 * Handles `POST /auth/register/device` with a form body (`productKey`, `deviceName`, `random`,
 * `sign`, `signMethod`); query parameters are read too. The answer is always HTTP 200 with the
 * platform's JSON envelope: `{"code":200,"data":{productKey,deviceName,deviceSecret},"message":"success"}`,
 * or a non-200 `code` and a message (see `RegisterCode`). A body over 64 KiB is answered HTTP 413.
 */
export function registrationHandler(
  registry: DeviceRegistry,
  onRegistered: (outcome: Extract<RegisterOutcome, { ok: true }>) => void,
) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const params = new URL(req.url ?? '/', 'http://emulator').searchParams
    const body = await readLimited(req, res)
    if (body === undefined) return
    const type = req.headers['content-type'] ?? ''
    const fields = type.includes('json') ? jsonFields(body) : new URLSearchParams(body.toString('utf8'))
    const field = (name: string): string | undefined => fields.get(name) ?? params.get(name) ?? undefined

    const outcome = registerDevice(registry, {
      productKey: field('productKey'),
      deviceName: field('deviceName'),
      random: field('random'),
      sign: field('sign'),
      signMethod: hmacMethodOf(field('signMethod') ?? field('signmethod')),
    })
    if (!outcome.ok) {
      sendJson(res, 200, { code: outcome.code, message: outcome.message })
      return
    }
    onRegistered(outcome)
    const { productKey, deviceName, deviceSecret } = outcome
    sendJson(res, 200, { code: 200, data: { productKey, deviceName, deviceSecret }, message: 'success' })
  }
}

/** Reads the body, or answers 413 (and closes the connection) when it is over MAX_BODY_BYTES. */
async function readLimited(req: IncomingMessage, res: ServerResponse): Promise<Buffer | undefined> {
  const tooLarge = () => {
    // An unread rest of the body would otherwise be drained before the next request on this connection.
    res.setHeader('Connection', 'close')
    sendJson(res, 413, { code: 413, message: `the body exceeds ${MAX_BODY_BYTES} bytes` })
    return undefined
  }
  if (Number(req.headers['content-length'] ?? 0) > MAX_BODY_BYTES) return tooLarge()
  try {
    return await readBody(req, MAX_BODY_BYTES)
  } catch (error) {
    if (error instanceof RangeError) return tooLarge()
    throw error
  }
}

function jsonFields(body: Buffer): Map<string, string> {
  const fields = new Map<string, string>()
  try {
    const parsed: unknown = JSON.parse(body.toString('utf8'))
    if (parsed !== null && typeof parsed === 'object') {
      for (const [key, value] of Object.entries(parsed)) {
        if (typeof value === 'string') fields.set(key, value)
      }
    }
  } catch {
    // A body that is not JSON simply carries no fields; the missing ones are reported as 460.
  }
  return fields
}
