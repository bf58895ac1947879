import { request as httpRequest } from 'node:http'
import type { Emulator } from '../src/index.js'

export interface ControlAnswer {
  status: number
  body: Record<string, unknown>
  text: string
  headers: Headers
}

/** Calls the control API with fetch; a body is sent as JSON unless `contentType` says otherwise. */
export async function control(
  emu: Emulator,
  method: string,
  path: string,
  body?: unknown,
  contentType = 'application/json',
): Promise<ControlAnswer> {
  const init: RequestInit = { method }
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body)
    init.headers = { 'content-type': contentType }
  }
  const res = await fetch(`${emu.httpUrl}/control/${path}`, init)
  const text = await res.text()
  return { status: res.status, body: JSON.parse(text) as Record<string, unknown>, text, headers: res.headers }
}

/** The `{ error: { code, message } }` of a refused call. */
export function errorOf(answer: ControlAnswer): { code: string; message: string } {
  return answer.body.error as { code: string; message: string }
}

/** A GET with a chosen Host header (fetch does not let a caller set Host). */
export function getWithHost(url: string, host: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers: { host } }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => {
        text += chunk
      })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }))
    })
    req.on('error', reject)
    req.end()
  })
}
