import type { IncomingMessage, ServerResponse } from 'node:http'
import { isLinkkitError, type LinkkitError } from '@linkkit/core'
import type { Logger } from 'pino'
import type { HttpHandler } from '../http-router.js'
import { ControlFailure, readJsonObject } from './control-input.js'
import { type ControlHost, type ControlRoute, controlRoutes } from './control-routes.js'
import { bearerMatches } from './control-token.js'
import type { FirmwareDir } from './firmware-file.js'

/** Path prefix of the control API on the emulator's HTTP server. */
export const CONTROL_PREFIX = '/control/'
/** Limit of every body but a firmware upload's. */
const MAX_BODY_BYTES = 1024 * 1024
const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '::1'])

export interface ControlApiOptions {
  /** The address the emulator's HTTP server binds; requests must name it or a loopback name as Host. */
  host: string
  logger: Logger
  /** Requests must carry `Authorization: Bearer <token>`; undefined (loopback only) lets any through. */
  token: string | undefined
  /** Where `POST /control/firmware {path}` may read; undefined refuses every path. */
  firmwareDir: FirmwareDir | undefined
}

/**
 * The emulator's HTTP control API under `/control/` (JSON in and out), used by `linkkit ota` and
 * scripts: devices, firmware, upgrade jobs, downlinks and kicks. It answers on the emulator's own
 * listener (loopback unless the emulator was bound elsewhere), refuses a Host header that names
 * another machine (a DNS-rebinding guard), answers 401 without the control token and never sends
 * device secrets or signed URL queries. Failures are `{ error: { code, message } }` with a
 * matching HTTP status.
 */
export function controlApiHandler(emu: ControlHost, options: ControlApiOptions): HttpHandler {
  const files = { dir: options.firmwareDir, logger: options.logger }
  const routes = controlRoutes(emu, files).map((route) => ({ route, segments: route.pattern.split('/') }))
  const allowedHosts = new Set([...LOOPBACK_NAMES, bareHost(options.host)])
  const { token } = options
  return async (req, res) => {
    try {
      const hostname = hostnameOf(req.headers.host)
      if (hostname !== undefined && !allowedHosts.has(hostname)) {
        throw new ControlFailure(403, 'ERR_INVALID_ARGUMENT', 'the control API answers only local requests')
      }
      if (token !== undefined && !bearerMatches(req.headers.authorization, token)) {
        res.setHeader('WWW-Authenticate', 'Bearer realm="linkkit emulator control API"')
        throw new ControlFailure(
          401,
          'ERR_CONTROL_UNAUTHORIZED',
          'send the control token the emulator printed at start as Authorization: Bearer <token>',
        )
      }
      // The client may leave before the answer: long work (a firmware file read) then stops.
      const gone = new AbortController()
      res.once('close', () => {
        if (!res.writableFinished) gone.abort()
      })
      const url = new URL(req.url ?? '/', 'http://emulator')
      const path = url.pathname.slice(CONTROL_PREFIX.length).replace(/\/+$/, '')
      const found = match(routes, path)
      if (found.length === 0)
        throw new ControlFailure(404, 'ERR_INVALID_ARGUMENT', `no endpoint /control/${path}`)
      const hit = found.find((f) => f.route.method === req.method)
      if (hit === undefined) {
        const allow = [...new Set(found.map((f) => f.route.method))].join(', ')
        res.setHeader('Allow', allow)
        throw new ControlFailure(405, 'ERR_INVALID_ARGUMENT', `use ${allow} on /control/${path}`)
      }
      const limit = hit.route.maxBodyBytes ?? MAX_BODY_BYTES
      const reply = await hit.route.handle({
        params: hit.params,
        signal: gone.signal,
        query: url.searchParams,
        body: () => readJsonObject(req, limit),
      })
      send(res, reply.status, reply.body)
    } catch (error) {
      answerError(req, res, error, options.logger)
    }
  }
}

interface Match {
  route: ControlRoute
  params: Record<string, string>
}

function match(routes: ReadonlyArray<{ route: ControlRoute; segments: string[] }>, path: string): Match[] {
  const parts = path.split('/')
  const found: Match[] = []
  for (const { route, segments } of routes) {
    if (segments.length !== parts.length) continue
    const params: Record<string, string> = {}
    const same = segments.every((segment, i) => {
      const part = parts[i] ?? ''
      if (!segment.startsWith(':')) return segment === part
      params[segment.slice(1)] = decodeSegment(part)
      return part.length > 0
    })
    if (same) found.push({ route, params })
  }
  return found
}

function decodeSegment(part: string): string {
  try {
    return decodeURIComponent(part)
  } catch {
    throw new ControlFailure(400, 'ERR_INVALID_ARGUMENT', 'a path segment is not valid percent-encoding')
  }
}

function answerError(req: IncomingMessage, res: ServerResponse, error: unknown, logger: Logger): void {
  const failure = toFailure(error)
  if (failure.status >= 500) logger.error({ err: error, path: req.url }, 'control API request failed')
  if (res.headersSent) {
    res.destroy()
    return
  }
  // An unread body would otherwise be drained before the next request on this connection.
  if (failure.status === 413) res.setHeader('Connection', 'close')
  send(res, failure.status, { error: { code: failure.code, message: failure.message } })
}

function toFailure(error: unknown): ControlFailure {
  if (error instanceof ControlFailure) return error
  if (isLinkkitError(error)) return new ControlFailure(statusOf(error), error.code, error.message)
  return new ControlFailure(500, 'ERR_INTERNAL', 'internal emulator error')
}

function statusOf(error: LinkkitError): number {
  switch (error.code) {
    case 'ERR_INVALID_ARGUMENT':
    case 'ERR_INVALID_OPTIONS':
    case 'ERR_INVALID_TOPIC_VALUE':
    case 'ERR_TSL_VALIDATION':
    case 'ERR_TSL_UNKNOWN_IDENTIFIER':
      return 400
    case 'ERR_NOT_CONNECTED':
    case 'ERR_OTA_BUSY':
    case 'ERR_OTA_STATE':
      return 409
    case 'ERR_CLOSED':
      return 503
    case 'ERR_REQUEST_TIMEOUT':
      return 504
    default:
      return 500
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const data = Buffer.from(JSON.stringify(body), 'utf8')
  res.writeHead(status, {
    'Content-Type': 'application/json;charset=utf-8',
    'Content-Length': data.length,
    'Cache-Control': 'no-store',
  })
  res.end(data)
}

function hostnameOf(header: string | undefined): string | undefined {
  if (header === undefined || header === '') return undefined
  try {
    return bareHost(new URL(`http://${header}`).hostname)
  } catch {
    return header
  }
}

function bareHost(host: string): string {
  return host.replace(/^\[(.*)\]$/, '$1').toLowerCase()
}
