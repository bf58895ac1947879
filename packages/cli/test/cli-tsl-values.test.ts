import { loadThingModel, parseThingModel, type ThingModel } from '@linkkit/sdk'
import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import { type Random, sampleParams, sampleValue } from '../src/device/tsl-values.js'
import { LAMP_TSL } from './cli-helpers.js'

/** A small seeded generator (mulberry32), so fast-check can shrink to a failing seed. */
function seeded(seed: number): Random {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const EDGES: Random[] = [() => 0, () => 1 - Number.EPSILON]

const EDGE_TSL = parseThingModel({
  properties: [
    { identifier: 'OpenInt', accessMode: 'r', dataType: { type: 'int' } },
    {
      identifier: 'FarInt',
      accessMode: 'r',
      dataType: { type: 'int', specs: { min: '5000', max: '2000000' } },
    },
    {
      identifier: 'Negative',
      accessMode: 'r',
      dataType: { type: 'int', specs: { min: '-9000', max: '-8000' } },
    },
    {
      identifier: 'Narrow',
      accessMode: 'r',
      dataType: { type: 'float', specs: { min: '0.101', max: '0.104' } },
    },
    { identifier: 'OpenDouble', accessMode: 'r', dataType: { type: 'double' } },
    { identifier: 'Short', accessMode: 'r', dataType: { type: 'text', specs: { length: '1' } } },
    { identifier: 'Mode', accessMode: 'rw', dataType: { type: 'enum', specs: { '3': 'a', '7': 'b' } } },
    {
      identifier: 'One',
      accessMode: 'rw',
      dataType: { type: 'array', specs: { size: '1', item: { type: 'int' } } },
    },
    { identifier: 'When', accessMode: 'r', dataType: { type: 'date' } },
  ],
})

describe('values drawn within the TSL specs', () => {
  let lamp: ThingModel
  beforeAll(async () => {
    lamp = await loadThingModel(LAMP_TSL)
  })

  it('are valid property posts of the lamp and of edge specs, for any seed and at both ends', () => {
    const check = (random: Random) => {
      for (const model of [lamp, EDGE_TSL]) {
        expect(() => model.validateProperties(sampleParams(model.properties, random))).not.toThrow()
      }
    }
    for (const edge of EDGES) check(edge)
    fc.assert(
      fc.property(fc.integer(), (seed) => check(seeded(seed))),
      { numRuns: 300 },
    )
  })

  it('are valid service outputs and event params of the lamp', () => {
    const check = (random: Random) => {
      for (const service of lamp.services.filter((s) => !s.builtIn)) {
        const output = sampleParams(service.outputData, random)
        expect(Object.keys(output)).toEqual(service.outputData.map((p) => p.identifier))
        expect(() => lamp.validateServiceOutput(service.identifier, output)).not.toThrow()
      }
      for (const event of lamp.events.filter((e) => !e.builtIn)) {
        expect(() =>
          lamp.validateEventParams(event.identifier, sampleParams(event.outputData, random)),
        ).not.toThrow()
      }
    }
    for (const edge of EDGES) check(edge)
    fc.assert(
      fc.property(fc.integer(), (seed) => check(seeded(seed))),
      { numRuns: 200 },
    )
  })

  it('keep open ranges readable and use the declared ones', () => {
    const values = Array.from({ length: 200 }, (_, i) => sampleParams(EDGE_TSL.properties, seeded(i)))
    expect(values.every((v) => Math.abs(v.OpenInt as number) <= 1000)).toBe(true)
    expect(values.every((v) => (v.FarInt as number) >= 5000 && (v.FarInt as number) <= 7000)).toBe(true)
    expect(new Set(values.map((v) => v.Mode))).toEqual(new Set([3, 7]))
    expect(sampleValue({ type: 'bool' }, () => 0.9)).toBe(1)
  })
})
