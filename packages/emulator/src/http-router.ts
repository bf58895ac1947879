import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Logger } from 'pino'

/** Handles one HTTP request routed by prefix. */
export type HttpHandler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>

interface Route {
  method: string
  prefix: string
  handler: HttpHandler
}

/**
 * The emulator's one HTTP server dispatches through this: dynamic registration under `/auth/`,
 * firmware files under `/ota/`, a control API later. The longest matching path prefix wins.
 */
export class HttpRouter {
  readonly #routes: Route[] = []
  readonly #logger: Logger

  constructor(logger: Logger) {
    this.#logger = logger
  }

  /**
   * Mounts `handler` for `method` (`'*'` for any) on `pathPrefix` and everything below it.
   * Returns a function that unmounts it.
   */
  route(method: string, pathPrefix: string, handler: HttpHandler): () => void {
    const route: Route = { method: method.toUpperCase(), prefix: pathPrefix, handler }
    this.#routes.push(route)
    return () => {
      const at = this.#routes.indexOf(route)
      if (at >= 0) this.#routes.splice(at, 1)
    }
  }

  /** The `node:http` request listener. */
  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    const path = new URL(req.url ?? '/', 'http://emulator').pathname
    const route = this.#match(req.method ?? 'GET', path)
    if (route === undefined) {
      sendJson(res, 404, { code: 404, message: `no route for ${req.method} ${path}` })
      return
    }
    Promise.resolve()
      .then(() => route.handler(req, res))
      .catch((error: unknown) => {
        this.#logger.error({ err: error, path }, 'http handler failed')
        if (!res.headersSent) sendJson(res, 500, { code: 500, message: 'internal emulator error' })
        else res.destroy()
      })
  }

  #match(method: string, path: string): Route | undefined {
    let best: Route | undefined
    for (const route of this.#routes) {
      if (route.method !== '*' && route.method !== method.toUpperCase()) continue
      if (!prefixMatches(route.prefix, path)) continue
      if (best === undefined || route.prefix.length > best.prefix.length) best = route
    }
    return best
  }
}

function prefixMatches(prefix: string, path: string): boolean {
  if (path === prefix) return true
  if (!path.startsWith(prefix)) return false
  return prefix.endsWith('/') || path[prefix.length] === '/'
}

/** Writes a JSON body with an exact `Content-Length`. */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const data = Buffer.from(JSON.stringify(body), 'utf8')
  res.writeHead(status, { 'Content-Type': 'application/json;charset=utf-8', 'Content-Length': data.length })
  res.end(data)
}

/** Reads a request body up to `limitBytes`; larger bodies reject. */
export async function readBody(req: IncomingMessage, limitBytes = 64 * 1024): Promise<Buffer> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk))
    size += buf.length
    if (size > limitBytes) throw new RangeError(`request body exceeds ${limitBytes} bytes`)
    chunks.push(buf)
  }
  return Buffer.concat(chunks)
}
