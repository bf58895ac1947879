import type { Logger } from 'pino'
import type { EmulatorPublishOptions, UplinkContext } from '../types.js'
import { isRecord } from './envelope.js'

/**
 * NTP (docs/protocol.md §2.3): request `{"deviceSendTime":"<ms>"}` on `/ext/ntp/${pk}/${dn}/request`,
 * response `{"deviceSendTime":"<echo>","serverRecvTime":"<ms>","serverSendTime":"<ms>"}` on
 * `.../response`, every field a string. The echo is what the device correlates on (3.x always
 * sends "1234"). There is no Alink envelope, so an unreadable request has no error reply.
 */
export async function answerNtp(
  ctx: UplinkContext,
  now: () => number,
  publish: (topic: string, payload: string, options?: EmulatorPublishOptions) => Promise<void>,
  logger: Logger,
): Promise<void> {
  const serverRecvTime = now()
  let body: unknown
  try {
    body = JSON.parse(ctx.payload.toString('utf8'))
  } catch {
    body = undefined
  }
  const sent = isRecord(body) ? body.deviceSendTime : undefined
  if (
    !(typeof sent === 'string' && sent.length <= 32) &&
    !(typeof sent === 'number' && Number.isFinite(sent))
  ) {
    logger.warn({ topic: ctx.topic }, 'NTP request without a deviceSendTime ignored')
    return
  }
  const response = `${ctx.topic.slice(0, -'/request'.length)}/response`
  const payload = JSON.stringify({
    deviceSendTime: String(sent),
    serverRecvTime: String(serverRecvTime),
    serverSendTime: String(now()),
  })
  try {
    await publish(response, payload, { qos: 0 })
  } catch (error) {
    logger.warn({ err: error, topic: response }, 'NTP response could not be published')
  }
}
