import { describe, expect, it } from 'vitest'
import { assertTopicName, assertTopicSegment, Topics, topicIdentity, topicMatches } from '../src/topics.js'

const d = { productKey: 'a1B2c3D4e5F', deviceName: 'dev' }

describe('topics', () => {
  it('matches + and # filters as MQTT does', () => {
    expect(topicMatches('/sys/a/b/thing/service/+', '/sys/a/b/thing/service/wakeup')).toBe(true)
    expect(topicMatches('/sys/a/b/thing/service/+', '/sys/a/b/thing/service/property/set')).toBe(false)
    expect(topicMatches('/sys/a/b/thing/service/#', '/sys/a/b/thing/service/property/set')).toBe(true)
    expect(topicMatches('/sys/+/+/#', '/sys/a/b')).toBe(true)
    expect(topicMatches('/a/+', '/a')).toBe(false)
  })

  it('refuses values that would escape their topic level', () => {
    for (const bad of ['', 'a/b', 'a+', '#', 'x\u0000', 'x\n', 'y'.repeat(65), 42]) {
      expect(() => assertTopicSegment(bad, 'deviceName')).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_TOPIC_VALUE' }),
      )
    }
    expect(() => Topics.eventPost(d, 'a/b')).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_TOPIC_VALUE' }),
    )
    expect(() => assertTopicName(`/sys/${'x'.repeat(130)}`)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_TOPIC_VALUE' }),
    )
    expect(Topics.eventPost(d, 'lowpower')).toBe('/sys/a1B2c3D4e5F/dev/thing/event/lowpower/post')
  })

  it('finds the device a topic belongs to', () => {
    expect(topicIdentity('/sys/pk/dn/thing/event/property/post')).toEqual({
      productKey: 'pk',
      deviceName: 'dn',
    })
    expect(topicIdentity('/ota/device/upgrade/pk/dn')).toEqual({ productKey: 'pk', deviceName: 'dn' })
    expect(topicIdentity('/ext/rrpc/123/sys/pk/dn/thing/service/x')).toEqual({
      productKey: 'pk',
      deviceName: 'dn',
    })
    expect(topicIdentity('/ext/session/pk/dn/combine/login')).toEqual({ productKey: 'pk', deviceName: 'dn' })
    expect(topicIdentity('/pk/dn/user/update')).toEqual({ productKey: 'pk', deviceName: 'dn' })
    expect(topicIdentity('/sys/+/+/#')).toBeUndefined()
    expect(topicIdentity('/ext/register')).toBeUndefined()
  })
})
