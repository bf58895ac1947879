import { describe, expect, it } from 'vitest'
import { DEFAULT_INBOUND_LIMITS, parseJson } from '../src/inbound-json.js'
import { assertTopicName } from '../src/topics.js'

const topic = '/sys/a1B2c3D4e5F/dev/thing/event/property/post_reply'
const nested = (levels: number) => `${'['.repeat(levels)}${']'.repeat(levels)}`
const wrap = (inner: string) => `{"id":"1","code":200,"data":${inner}}`

describe('parseJson depth limit', () => {
  const { maxDepth } = DEFAULT_INBOUND_LIMITS

  it('takes data nested exactly maxDepth levels below the envelope, as text and as bytes', () => {
    const text = wrap(nested(maxDepth))
    expect(parseJson(text, topic)).toMatchObject({ id: '1' })
    expect(parseJson(Buffer.from(text), topic)).toMatchObject({ id: '1' })
  })

  it('refuses data nested one level deeper, as text and as bytes', () => {
    const text = wrap(nested(maxDepth + 1))
    for (const payload of [text, Buffer.from(text)]) {
      expect(() => parseJson(payload, topic)).toThrow(
        expect.objectContaining({ code: 'ERR_MALFORMED_PAYLOAD', details: { maxDepth } }),
      )
    }
  })

  it('does not count brackets inside strings as nesting', () => {
    const text = wrap(JSON.stringify({ note: '{['.repeat(4 * maxDepth) }))
    expect(parseJson(Buffer.from(text), topic)).toMatchObject({ data: { note: '{['.repeat(4 * maxDepth) } })
  })

  it('refuses deep nesting under a custom limit in a small payload', () => {
    expect(() => parseJson(wrap(nested(3)), topic, { maxPayloadBytes: 1024, maxDepth: 2 })).toThrow(
      expect.objectContaining({ code: 'ERR_MALFORMED_PAYLOAD' }),
    )
    expect(parseJson(wrap(nested(2)), topic, { maxPayloadBytes: 1024, maxDepth: 2 })).toMatchObject({
      code: 200,
    })
  })
})

describe('assertTopicName', () => {
  it('still refuses a bad topic right after passing a good one', () => {
    expect(assertTopicName(topic)).toBe(topic)
    expect(assertTopicName(topic)).toBe(topic)
    for (const bad of ['', '/sys/+/x', '/sys/#', `/sys/${'x'.repeat(130)}`, 'a\u0000b']) {
      expect(() => assertTopicName(bad)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_TOPIC_VALUE' }))
      expect(assertTopicName(topic)).toBe(topic)
    }
  })
})
