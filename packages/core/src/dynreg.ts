import { randomBytes } from 'node:crypto'
import type { IClientOptions } from 'mqtt'
import { connackError, transportError } from './connack.js'
import { LinkkitError } from './errors.js'
import { createLogger, type LoggerOption } from './logger.js'
import { nonEmptyStringRule, requireOption } from './option-check.js'
import { DEFAULT_REGION, regionBrokerUrl, type TlsOptions } from './options.js'
import { detachedCause } from './redact.js'
import { formatClientId, hmacHex, registerSignContent, type SignMethod } from './sign.js'
import { assertTopicSegment } from './topics.js'

/** Options of dynamic registration ("one product one secret", docs/protocol.md §1.4). */
export interface RegisterOptions {
  /** The product of the device to register. */
  productKey: string
  /** The name of the device to register. */
  deviceName: string
  /** The product's secret, the HMAC key of the registration request. */
  productSecret: string
  /** @default 'https' */
  transport?: 'https' | 'mqtt'
  /** @default 'cn-shanghai' */
  region?: string
  /** HTTPS base URL, e.g. the emulator's `httpUrl`. @default `https://iot-auth.<region>.aliyuncs.com` */
  registerUrl?: string
  /** MQTT broker for transport 'mqtt'. @default the region's MQTT host */
  brokerUrl?: string
  /** @default 'hmacsha256' */
  signMethod?: SignMethod
  /** TLS settings of the HTTPS or MQTT registration; verification stays on unless turned off by name. */
  tls?: TlsOptions
  /** Plain `http://` registration URLs carry the secret in clear; refused unless this is true. @default false */
  allowHttp?: boolean
  /** @default 10000 */
  timeoutMs?: number
  /** Cancels the registration; it then rejects with `ERR_ABORTED`. */
  signal?: AbortSignal
  /** A pino logger or a level; the secret is never logged. */
  logger?: LoggerOption
}

/** What dynamic registration returns. */
export interface RegisteredDevice {
  /** The registered device's product key. */
  productKey: string
  /** The registered device's name. */
  deviceName: string
  /** The secret the platform issued: store it, the platform may not issue it again. */
  deviceSecret: string
}

/** Obtains the device secret from the platform. Store it: registering again may be refused once the device is active. */
export async function registerDevice(options: RegisterOptions): Promise<RegisteredDevice> {
  assertTopicSegment(options.productKey, 'productKey')
  assertTopicSegment(options.deviceName, 'deviceName')
  requireOption(options.productSecret, 'productSecret', nonEmptyStringRule)
  const logger = createLogger(options.logger, 'dynreg')
  const random = randomBytes(8).toString('hex')
  const signMethod = options.signMethod ?? 'hmacsha256'
  const sign = hmacHex(
    signMethod,
    options.productSecret,
    registerSignContent(options.productKey, options.deviceName, random),
  )
  logger.debug(
    { transport: options.transport ?? 'https', deviceName: options.deviceName },
    'registering device',
  )
  const result =
    options.transport === 'mqtt'
      ? await registerOverMqtt(options, random, sign, signMethod)
      : await registerOverHttps(options, random, sign, signMethod)
  logger.info({ deviceName: result.deviceName }, 'device registered')
  return result
}

function secretFrom(body: unknown, options: RegisterOptions): RegisteredDevice {
  const data = (body as { data?: unknown })?.data ?? body
  const secret = (data as { deviceSecret?: unknown })?.deviceSecret
  if (typeof secret !== 'string' || secret.length === 0) {
    throw new LinkkitError('ERR_DYNREG_FAILED', 'registration answer carries no deviceSecret')
  }
  return { productKey: options.productKey, deviceName: options.deviceName, deviceSecret: secret }
}

async function registerOverHttps(
  options: RegisterOptions,
  random: string,
  sign: string,
  signMethod: SignMethod,
): Promise<RegisteredDevice> {
  const base = options.registerUrl ?? `https://iot-auth.${options.region ?? DEFAULT_REGION}.aliyuncs.com`
  const url = new URL('/auth/register/device', base)
  if (url.protocol === 'http:' && options.allowHttp !== true) {
    throw new LinkkitError(
      'ERR_HTTP_NOT_ALLOWED',
      'registration over plain http is refused; set allowHttp: true to allow it',
    )
  }
  let body: unknown
  try {
    // Loaded on first use: registration runs once in a device's life, and got's import alone costs
    // about 15 MiB of RSS that every process loading @linkkit/core would otherwise pay.
    const { got } = await import('got')
    body = await got
      .post(url, {
        form: { productKey: options.productKey, deviceName: options.deviceName, random, sign, signMethod },
        headers: { accept: 'text/xml,text/javascript,text/html,application/json' },
        timeout: { request: options.timeoutMs ?? 10_000 },
        retry: { limit: 0 },
        signal: options.signal,
        https: {
          certificateAuthority: options.tls?.ca,
          rejectUnauthorized: options.tls?.rejectUnauthorized !== false,
        },
      })
      .json()
  } catch (error) {
    if (options.signal?.aborted) throw new LinkkitError('ERR_ABORTED', 'registration aborted')
    const status = (error as { response?: { statusCode?: number } }).response?.statusCode
    // got's error holds the form (`random` and `sign` buy a device secret when replayed) and the
    // body; the cause keeps only what says why, as the firmware downloader does.
    const cause = detachedCause(error)
    throw new LinkkitError(
      'ERR_DYNREG_FAILED',
      `registration request failed${status ? ` (HTTP ${status})` : ''}: ${cause.message}`,
      { cause, httpStatus: status },
    )
  }
  const code = (body as { code?: unknown })?.code
  if (code !== 200) {
    const message = (body as { message?: unknown })?.message
    throw new LinkkitError(
      'ERR_DYNREG_FAILED',
      `registration refused: ${code} ${typeof message === 'string' ? message : ''}`,
      {
        replyCode: typeof code === 'number' ? code : undefined,
      },
    )
  }
  return secretFrom(body, options)
}

async function registerOverMqtt(
  options: RegisterOptions,
  random: string,
  sign: string,
  signMethod: SignMethod,
): Promise<RegisteredDevice> {
  const { connect: mqttConnect } = await import('mqtt')
  const brokerUrl = options.brokerUrl ?? regionBrokerUrl(options.productKey, options.region ?? DEFAULT_REGION)
  const secure = brokerUrl.startsWith('mqtts:')
  const clientId = formatClientId(`${options.productKey}.${options.deviceName}`, {
    securemode: secure ? '2' : '3',
    authType: 'register',
    random,
    signmethod: signMethod,
  })
  const mqttOptions: IClientOptions = {
    clientId,
    username: `${options.deviceName}&${options.productKey}`,
    password: sign,
    protocolVersion: 4,
    clean: true,
    keepalive: 60,
    reconnectPeriod: 0,
    connectTimeout: options.timeoutMs ?? 10_000,
  }
  if (secure) {
    Object.assign(mqttOptions, {
      ca: options.tls?.ca,
      rejectUnauthorized: options.tls?.rejectUnauthorized !== false,
    })
  }
  return new Promise<RegisteredDevice>((resolve, reject) => {
    const client = mqttConnect(brokerUrl, mqttOptions)
    const finish = (error: LinkkitError | undefined, result?: RegisteredDevice) => {
      clearTimeout(timer)
      options.signal?.removeEventListener('abort', onAbort)
      client.end(true)
      if (error) reject(error)
      else resolve(result!)
    }
    const timer = setTimeout(
      () => finish(new LinkkitError('ERR_DYNREG_FAILED', 'no /ext/register message within the timeout')),
      options.timeoutMs ?? 10_000,
    )
    const onAbort = () => finish(new LinkkitError('ERR_ABORTED', 'registration aborted'))
    options.signal?.addEventListener('abort', onAbort, { once: true })
    // The platform pushes /ext/register right after CONNACK without any SUBSCRIBE (docs/protocol.md §1.4).
    client.on('message', (topic, payload) => {
      if (topic !== '/ext/register') return
      try {
        finish(undefined, secretFrom(JSON.parse(payload.toString('utf8')), options))
      } catch (error) {
        finish(
          error instanceof LinkkitError
            ? error
            : new LinkkitError('ERR_DYNREG_FAILED', 'malformed /ext/register payload'),
        )
      }
    })
    client.on('error', (error: Error & { code?: unknown }) =>
      finish(typeof error.code === 'number' ? connackError(error.code) : transportError(error)),
    )
  })
}
