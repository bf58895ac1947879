import mqtt from 'mqtt'

/** A message the cloud stand-in received from the device. */
export interface Received {
  topic: string
  payload: Buffer
}

/** An Alink reply as the device sent it. */
export interface DeviceReply {
  id: string
  code: number
  data: unknown
  message?: string
}

export interface CloudDevice {
  productKey: string
  deviceName: string
}

type Responder = (
  topic: string,
  body: Record<string, unknown>,
) => { code: number; data?: unknown; message?: string }

let seq = 0

/**
 * A test-side stand-in for the platform on any MQTT broker (aedes, Mosquitto…), speaking a raw
 * MQTT.js client: it answers the device's Alink posts with 200 (or what `respond` says), answers
 * NTP and `up_raw`, and sends downlinks (property set/get, services over async and both RRPC forms,
 * raw) returning the device's reply. Messages it published itself and got back from the broker
 * are not counted as received.
 */
export class Cloud {
  readonly received: Received[] = []
  /** Per-method overrides of the auto reply, e.g. `respond.set('thing.event.property.post', () => ({ code: 6106 }))`. */
  readonly respond = new Map<string, Responder>()
  /** Desired values answered to `thing.property.desired.get`. */
  desired: Record<string, { value: unknown; version: number }> = {}
  /** How long `call` and the helpers built on it wait for the device's reply. */
  replyTimeoutMs = 3000
  /** Server clock for NTP answers. */
  now: () => number = () => Date.now()
  readonly #client: mqtt.MqttClient
  readonly #sys: string
  readonly #ownEchoes: Received[] = []
  readonly #waiters = new Set<{ match: (m: Received) => boolean; resolve: (m: Received) => void }>()

  private constructor(
    client: mqtt.MqttClient,
    readonly device: CloudDevice,
  ) {
    this.#client = client
    this.#sys = `/sys/${device.productKey}/${device.deviceName}`
    client.on('message', (topic, payload) => this.#onMessage(topic, Buffer.from(payload)))
  }

  static async connect(url: string, device: CloudDevice): Promise<Cloud> {
    const client = await mqtt.connectAsync(url, {
      clientId: `cloud-${process.pid}-${++seq}`,
      reconnectPeriod: 0,
    })
    const cloud = new Cloud(client, device)
    const { productKey: pk, deviceName: dn } = device
    await client.subscribeAsync({
      [`/sys/${pk}/${dn}/#`]: { qos: 1 },
      [`/ext/rrpc/+/sys/${pk}/${dn}/#`]: { qos: 1 },
      [`/ext/ntp/${pk}/${dn}/request`]: { qos: 1 },
    })
    return cloud
  }

  /** Messages received on `topic` (exact) or matching a predicate. */
  on(topic: string | ((t: string) => boolean)): Received[] {
    const match = typeof topic === 'string' ? (t: string) => t === topic : topic
    return this.received.filter((m) => match(m.topic))
  }

  /** Resolves with the first message received from index `since` on (past or future) that matches. */
  waitFor(match: (m: Received) => boolean, timeoutMs = 3000, since = 0): Promise<Received> {
    const past = this.received.slice(since).find(match)
    if (past) return Promise.resolve(past)
    return new Promise((resolve, reject) => {
      const waiter = {
        match,
        resolve: (m: Received) => {
          clearTimeout(timer)
          this.#waiters.delete(waiter)
          resolve(m)
        },
      }
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter)
        reject(new Error(`cloud: nothing matching arrived within ${timeoutMs} ms`))
      }, timeoutMs)
      this.#waiters.add(waiter)
    })
  }

  /** Publishes a downlink as is (any bytes). */
  async publish(topic: string, payload: string | Buffer | object, qos: 0 | 1 = 1): Promise<void> {
    const bytes = Buffer.isBuffer(payload)
      ? payload
      : Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload))
    this.#ownEchoes.push({ topic, payload: bytes })
    await this.#client.publishAsync(topic, bytes, { qos })
  }

  /** Sends an Alink request (id a string, version and method present, as 3.x needs) and waits for the reply on `replyTopic`. */
  async call(
    topic: string,
    replyTopic: string,
    method: string,
    params: unknown,
    timeoutMs = this.replyTimeoutMs,
  ): Promise<DeviceReply> {
    const id = String(++seq)
    const reply = this.waitFor((m) => m.topic === replyTopic && parse(m.payload)?.id === id, timeoutMs)
    await this.publish(topic, { id, version: '1.0', params, method })
    return parse((await reply).payload) as unknown as DeviceReply
  }

  setProperties(params: unknown): Promise<DeviceReply> {
    const topic = `${this.#sys}/thing/service/property/set`
    return this.call(topic, `${topic}_reply`, 'thing.service.property.set', params)
  }

  getProperties(ids: unknown): Promise<DeviceReply> {
    const topic = `${this.#sys}/thing/service/property/get`
    return this.call(topic, `${topic}_reply`, 'thing.service.property.get', ids)
  }

  /** Invokes a service: `async` on `thing/service/<id>`, `legacy` RRPC, or `ext` RRPC (`/ext/rrpc/...`). */
  invokeService(
    serviceId: string,
    params: unknown,
    form: 'async' | 'legacy' | 'ext' = 'async',
    timeoutMs?: number,
  ): Promise<DeviceReply> {
    const method = `thing.service.${serviceId}`
    const rrpcId = String(1_000_000 + ++seq)
    if (form === 'legacy') {
      return this.call(
        `${this.#sys}/rrpc/request/${rrpcId}`,
        `${this.#sys}/rrpc/response/${rrpcId}`,
        method,
        params,
        timeoutMs,
      )
    }
    if (form === 'ext') {
      const topic = `/ext/rrpc/${rrpcId}${this.#sys}/thing/service/${serviceId}`
      return this.call(topic, topic, method, params, timeoutMs)
    }
    const topic = `${this.#sys}/thing/service/${serviceId}`
    return this.call(topic, `${topic}_reply`, method, params, timeoutMs)
  }

  /** Sends `down_raw` (or its ext RRPC form) and resolves with the device's reply bytes. */
  async sendRaw(bytes: Buffer, sync = false): Promise<Buffer> {
    const topic = sync
      ? `/ext/rrpc/${1_000_000 + ++seq}${this.#sys}/thing/model/down_raw`
      : `${this.#sys}/thing/model/down_raw`
    const replyTopic = sync ? topic : `${topic}_reply`
    const reply = this.waitFor((m) => m.topic === replyTopic, 3000, this.received.length)
    await this.publish(topic, bytes)
    return (await reply).payload
  }

  async close(): Promise<void> {
    await this.#client.endAsync(true)
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }

  #onMessage(topic: string, payload: Buffer): void {
    const echo = this.#ownEchoes.findIndex((m) => m.topic === topic && m.payload.equals(payload))
    if (echo >= 0) {
      this.#ownEchoes.splice(echo, 1)
      return
    }
    const message = { topic, payload }
    this.received.push(message)
    for (const w of [...this.#waiters]) if (w.match(message)) w.resolve(message)
    void this.#autoReply(topic, payload)
  }

  async #autoReply(topic: string, payload: Buffer): Promise<void> {
    if (topic === `/ext/ntp/${this.device.productKey}/${this.device.deviceName}/request`) {
      const body = parse(payload)
      const t = String(this.now())
      await this.publish(topic.replace(/request$/, 'response'), {
        deviceSendTime: body?.deviceSendTime,
        serverRecvTime: t,
        serverSendTime: t,
      })
      return
    }
    if (topic === `${this.#sys}/thing/model/up_raw`) {
      await this.publish(`${topic}_reply`, Buffer.concat([Buffer.from('ack:'), payload]))
      return
    }
    if (
      !topic.startsWith(`${this.#sys}/thing/`) ||
      topic.endsWith('_reply') ||
      topic.includes('/thing/service/')
    )
      return
    const body = parse(payload)
    if (body === undefined || (body.sys as { ack?: number } | undefined)?.ack === 0) return
    const method = typeof body.method === 'string' ? body.method : ''
    const answer = this.respond.get(method)?.(topic, body) ?? {
      code: 200,
      data: this.#defaultData(method, body),
    }
    await this.publish(`${topic}_reply`, {
      id: body.id,
      code: answer.code,
      data: answer.data ?? {},
      message: answer.message ?? (answer.code === 200 ? 'success' : 'error'),
      method,
      version: '1.0',
    })
  }

  #defaultData(method: string, body: Record<string, unknown>): unknown {
    if (method !== 'thing.property.desired.get' || !Array.isArray(body.params)) return {}
    return Object.fromEntries(
      body.params.filter((id) => id in this.desired).map((id) => [id, this.desired[id]]),
    )
  }
}

/** The JSON object in `payload`, or undefined. */
export function parse(payload: Buffer): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(payload.toString())
    return typeof v === 'object' && v !== null && !Array.isArray(v)
      ? (v as Record<string, unknown>)
      : undefined
  } catch {
    return undefined
  }
}
