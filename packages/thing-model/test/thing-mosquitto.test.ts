import { findMosquitto, MosquittoProcess, mosquittoRequired } from '@linkkit/testing/mosquitto'
import { describe, expect, it } from 'vitest'
import { parse } from './helpers/cloud.js'
import { lamp, startRig, sys } from './helpers/setup.js'

const bin = findMosquitto()

describe('ThingClient through Mosquitto with the cloud stand-in', () => {
  it.skipIf(!bin && !mosquittoRequired)(
    'posts properties, takes a property set and answers services',
    async () => {
      const mosq = await MosquittoProcess.startRequired(bin)
      try {
        await using rig = await startRig({ thingModel: lamp }, { clientIdExtensions: { ext: '1' } }, mosq.url)
        const reply = await rig.client.postProperties({ Brightness: 55, LightSwitch: 1 })
        expect(reply.code).toBe(200)
        expect(parse(rig.cloud.on(`${sys}/thing/event/property/post`)[0]!.payload)?.params).toEqual({
          Brightness: 55,
          LightSwitch: 1,
        })

        const applied: unknown[] = []
        rig.client.onPropertySet((params) => {
          applied.push(params)
        })
        expect((await rig.cloud.setProperties({ Brightness: 10 })).code).toBe(200)
        expect((await rig.cloud.setProperties({ Brightness: 1000 })).code).toBe(6306)
        expect(applied).toEqual([{ Brightness: 10 }])

        rig.client.onService('wakeup', (params) => ({ out: Number(params.delaySeconds) * 2 }))
        rig.client.onService('Blink', () => ({}))
        expect(await rig.cloud.invokeService('wakeup', { delaySeconds: 4 })).toMatchObject({
          code: 200,
          data: { out: 8 },
        })
        expect((await rig.cloud.invokeService('Blink', { times: 1 }, 'legacy')).code).toBe(200)
        expect((await rig.cloud.invokeService('Blink', { times: 1 }, 'ext')).code).toBe(200)
        expect(rig.errors.map((e) => e.code)).toEqual(['ERR_TSL_VALIDATION'])
      } finally {
        await mosq.close()
      }
    },
  )
})
