import { request as httpRequest } from 'node:http'
import type { Emulator } from '../src/index.js'

export interface ControlAnswer {
  status: number
  body: Record<string, unknown>
  text: string
  headers: Headers
}

/** Calls the control API with fetch and the emulator's control token; a body is sent as JSON unless `contentType` says otherwise. */
export async function control(
  emu: Emulator,
  method: string,
  path: string,
  body?: unknown,
  contentType = 'application/json',
): Promise<ControlAnswer> {
  const headers: Record<string, string> = { authorization: `Bearer ${emu.controlToken}` }
  const init: RequestInit = { method, headers }
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body)
    headers['content-type'] = contentType
  }
  const res = await fetch(`${emu.httpUrl}/control/${path}`, init)
  const text = await res.text()
  return { status: res.status, body: JSON.parse(text) as Record<string, unknown>, text, headers: res.headers }
}

/** The `{ error: { code, message } }` of a refused call. */
export function errorOf(answer: ControlAnswer): { code: string; message: string } {
  return answer.body.error as { code: string; message: string }
}

/** A GET with a chosen Host header (fetch does not let a caller set Host) and the control token. */
export function getWithHost(
  url: string,
  host: string,
  token: string | undefined,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers: { host, authorization: `Bearer ${token}` } }, (res) => {
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
