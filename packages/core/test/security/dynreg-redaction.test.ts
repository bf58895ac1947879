import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Writable } from 'node:stream'
import { inspect } from 'node:util'
import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import { registerDevice } from '../../src/dynreg.js'
import { isLinkkitError } from '../../src/errors.js'

// Finding 8a of issue 10: a failed dynamic registration kept got's raw error as `cause`, and with it
// the form (`random`, `sign`: replaying them returns a device secret) and the response body.

const productSecret = 'product-secret-NEVER-PRINT-0001'
const bodySecret = 'device-secret-FROM-BODY-0001'

interface Form {
  random: string
  sign: string
}

/** A registration endpoint on loopback that answers as `answer` says and records each form it got. */
async function endpoint(answer: (res: ServerResponse) => void) {
  const forms: Form[] = []
  const server = createServer((req: IncomingMessage, res) => {
    let text = ''
    req.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8')
    })
    req.on('end', () => {
      const form = new URLSearchParams(text)
      forms.push({ random: form.get('random') ?? '', sign: form.get('sign') ?? '' })
      answer(res)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    forms,
    async [Symbol.asyncDispose]() {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

/** Every rendering a user could see of an error and of each `cause` below it. */
function renderings(error: unknown): string[] {
  const out: string[] = []
  let current: unknown = error
  for (let depth = 0; depth < 10 && current !== undefined && current !== null; depth++) {
    out.push(inspect(current, { depth: null, showHidden: true }))
    out.push(inspect(current))
    out.push(safeJson(current))
    if (current instanceof Error) out.push(String(current.stack), current.message)
    current = (current as { cause?: unknown }).cause
  }
  return out
}

function safeJson(value: unknown): string {
  const seen = new WeakSet<object>()
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === 'object' && v !== null) {
      if (seen.has(v)) return '[circular]'
      seen.add(v)
      if (v instanceof Error) return { ...v, message: v.message, stack: v.stack }
    }
    return v
  })
}

function logSink() {
  const sink = { text: '', stream: undefined as unknown as Writable }
  sink.stream = new Writable({
    write(chunk, _encoding, done) {
      sink.text += String(chunk)
      done()
    },
  })
  return sink
}

const answers: Array<[string, (res: ServerResponse) => void, number]> = [
  [
    'an HTTP 500 whose body carries a device secret',
    (res) => {
      res.writeHead(500, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ code: 500, data: { deviceSecret: bodySecret } }))
    },
    2000,
  ],
  [
    'a 200 whose body is cut off after the device secret (not JSON)',
    (res) => {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(`{"code":200,"data":{"deviceSecret":"${bodySecret}"`)
    },
    2000,
  ],
  ['no answer within the timeout', () => {}, 200],
]

describe('dynamic registration failures carry no secret (issue 10, 8a)', () => {
  it.each(answers)('%s', async (_name, answer, timeoutMs) => {
    await using server = await endpoint(answer)
    const log = logSink()
    const error = await registerDevice({
      productKey: 'a1DynLeak01',
      deviceName: 'dyn-leak-1',
      productSecret,
      registerUrl: server.url,
      allowHttp: true,
      timeoutMs,
      logger: pino({ level: 'trace' }, log.stream),
    }).catch((e: unknown) => e)
    expect(isLinkkitError(error, 'ERR_DYNREG_FAILED')).toBe(true)
    const [form] = server.forms
    expect(form?.random.length).toBeGreaterThan(0)
    expect(form?.sign.length).toBeGreaterThan(0)
    const secrets = { random: form!.random, sign: form!.sign, productSecret, deviceSecret: bodySecret }
    const texts = [...renderings(error), log.text]
    const leaks = texts.flatMap((text, i) =>
      Object.entries(secrets)
        .filter(([, secret]) => text.includes(secret))
        .map(([name]) => `${name} in rendering ${i === texts.length - 1 ? 'log' : i}`),
    )
    expect(leaks).toEqual([])
    expect(log.text.length).toBeGreaterThan(0)
    // What went wrong is still told: the status, or the kind of failure.
    expect((error as Error).message).toMatch(/HTTP 500|not valid JSON|timed out|timeout/i)
  })

  it('a cancelled registration rejects with ERR_ABORTED, also without the form', async () => {
    await using server = await endpoint(() => {})
    const controller = new AbortController()
    const pending = registerDevice({
      productKey: 'a1DynLeak01',
      deviceName: 'dyn-leak-2',
      productSecret,
      registerUrl: server.url,
      allowHttp: true,
      signal: controller.signal,
    }).catch((e: unknown) => e)
    await expect.poll(() => server.forms.length).toBe(1)
    controller.abort()
    const error = await pending
    expect(isLinkkitError(error, 'ERR_ABORTED')).toBe(true)
    const { random, sign } = server.forms[0]!
    for (const text of renderings(error)) {
      expect(text.includes(random) || text.includes(sign) || text.includes(productSecret)).toBe(false)
    }
  })
})
