import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Connection } from '@linkkit/core'
import { afterEach, describe, expect, it } from 'vitest'
import { ThingClient } from '../src/index.js'
import { loadThingModel, parseThingModel, type ThingModel } from '../src/tsl/index.js'
import { lampPath, lampUrl, thrown } from './fixtures/helpers.js'

const lampJson = async (): Promise<Record<string, unknown>> => JSON.parse(await readFile(lampPath, 'utf8'))

function expectLamp(model: ThingModel): void {
  expect(model.productKey).toBe('a1LampDemo0')
  expect(model.properties).toHaveLength(11)
  expect(model.services.map((s) => s.identifier)).toEqual(['set', 'get', 'wakeup', 'Blink'])
  expect(model.events.map((e) => e.identifier)).toEqual(['post', 'lowpower', 'Error'])
}

let dir: string | undefined
afterEach(async () => {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true })
  dir = undefined
})

async function tempFile(name: string, content: string): Promise<string> {
  dir ??= await mkdtemp(join(tmpdir(), 'linkkit-tsl-'))
  const file = join(dir, name)
  await writeFile(file, content)
  return file
}

describe('loadThingModel', () => {
  it('loads the lamp from a path, a file URL and an object', async () => {
    expectLamp(await loadThingModel(lampPath))
    expectLamp(await loadThingModel(lampUrl))
    expectLamp(await loadThingModel(await lampJson()))
    expectLamp(parseThingModel(await lampJson()))
  })

  it('returns a ThingModel it is given as is', async () => {
    const model = parseThingModel(await lampJson())
    expect(await loadThingModel(model)).toBe(model)
  })

  it('keeps examples/lamp.tsl.json identical to the test fixture', async () => {
    const example = new URL('../../../examples/lamp.tsl.json', import.meta.url)
    expect(JSON.parse(await readFile(example, 'utf8'))).toEqual(await lampJson())
  })

  it('accepts a document that lists the built-ins set, get and post as the platform exports them', async () => {
    const doc = await lampJson()
    const properties = doc.properties as { identifier: string; accessMode: string }[]
    const withBuiltIns = {
      ...doc,
      events: [
        { identifier: 'post', type: 'info', method: 'thing.event.property.post', outputData: properties },
        ...(doc.events as unknown[]),
      ],
      services: [
        {
          identifier: 'set',
          callType: 'async',
          method: 'thing.service.property.set',
          inputData: properties.filter((p) => p.accessMode === 'rw'),
          outputData: [],
        },
        {
          identifier: 'get',
          callType: 'async',
          method: 'thing.service.property.get',
          inputData: properties.map((p) => p.identifier),
          outputData: properties,
        },
        ...(doc.services as unknown[]),
      ],
    }
    const model = parseThingModel(withBuiltIns)
    expectLamp(model)
    expect(model.service('get')?.builtIn).toBe(true)
    expect(() => model.validateServiceInput('get', ['Brightness'])).not.toThrow()
  })

  it('accepts an empty document: only the built-ins exist', () => {
    const model = parseThingModel({})
    expect(model.services.map((s) => s.identifier)).toEqual(['set', 'get'])
    expect(model.hasEvent('post')).toBe(true)
    expect(thrown(() => model.validateProperties({ a: 1 })).code).toBe('ERR_TSL_UNKNOWN_IDENTIFIER')
  })

  it('rejects a missing file with rule read', async () => {
    const error = await loadThingModel(join(tmpdir(), 'no-such-linkkit.tsl.json')).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'ERR_TSL_INVALID', details: { path: '', rule: 'read' } })
  })

  it('rejects a file that is not JSON with rule json', async () => {
    const file = await tempFile('broken.json', '{"properties": [')
    const error = await loadThingModel(file).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'ERR_TSL_INVALID', details: { rule: 'json' } })
  })

  it('names the file and the place in the document when a file holds a malformed TSL', async () => {
    const file = await tempFile(
      'bad.json',
      JSON.stringify({ properties: [{ identifier: 'a', accessMode: 'rw' }] }),
    )
    const error = await loadThingModel(file).catch((e: unknown) => e)
    expect(error).toMatchObject({
      code: 'ERR_TSL_INVALID',
      details: { path: 'properties[0].dataType', rule: 'required' },
    })
    expect((error as Error).message).toContain(file)
  })
})

const int = { type: 'int', specs: { min: '0', max: '10', step: '1' } }
const prop = (dataType: unknown, extra: Record<string, unknown> = {}) => ({
  properties: [{ identifier: 'p', accessMode: 'rw', dataType, ...extra }],
})
const member = (identifier: string, dataType: unknown) => ({ identifier, name: identifier, dataType })
const array = (specs: unknown) => prop({ type: 'array', specs })

describe('parseThingModel refuses malformed documents with ERR_TSL_INVALID { path, rule }', () => {
  it.each<[string, unknown, string, string]>([
    ['a non-object document', [], '', 'type'],
    ['properties that are not an array', { properties: {} }, 'properties', 'type'],
    ['a property that is not an object', { properties: ['p'] }, 'properties[0]', 'type'],
    [
      'a missing identifier',
      { properties: [{ accessMode: 'rw', dataType: int }] },
      'properties[0].identifier',
      'required',
    ],
    [
      'an identifier with a slash',
      prop(int, { identifier: 'a/b' }),
      'properties[0].identifier',
      'identifier',
    ],
    [
      'a duplicate property',
      { properties: [...prop(int).properties, ...prop(int).properties] },
      'properties[1].identifier',
      'unique',
    ],
    [
      'a missing accessMode',
      { properties: [{ identifier: 'p', dataType: int }] },
      'properties[0].accessMode',
      'required',
    ],
    ['an unknown accessMode', prop(int, { accessMode: 'w' }), 'properties[0].accessMode', 'value'],
    [
      'a missing dataType',
      { properties: [{ identifier: 'p', accessMode: 'r' }] },
      'properties[0].dataType',
      'required',
    ],
    ['an unknown data type', prop({ type: 'int64', specs: {} }), 'properties[0].dataType.type', 'data-type'],
    [
      'a min that is not a number',
      prop({ type: 'int', specs: { min: 'abc', max: '1' } }),
      'properties[0].dataType.specs.min',
      'number',
    ],
    [
      'min greater than max',
      prop({ type: 'float', specs: { min: '2', max: '1' } }),
      'properties[0].dataType.specs',
      'range',
    ],
    [
      'a zero step',
      prop({ type: 'double', specs: { step: '0' } }),
      'properties[0].dataType.specs.step',
      'step',
    ],
    [
      'a negative step',
      prop({ type: 'int', specs: { step: '-1' } }),
      'properties[0].dataType.specs.step',
      'step',
    ],
    [
      'text longer than 10240',
      prop({ type: 'text', specs: { length: '10241' } }),
      'properties[0].dataType.specs.length',
      'length',
    ],
    [
      'text length 0',
      prop({ type: 'text', specs: { length: '0' } }),
      'properties[0].dataType.specs.length',
      'length',
    ],
    [
      'a fractional text length',
      prop({ type: 'text', specs: { length: '1.5' } }),
      'properties[0].dataType.specs.length',
      'length',
    ],
    [
      'an enum key that is not an integer',
      prop({ type: 'enum', specs: { a: 'x' } }),
      'properties[0].dataType.specs.a',
      'enum-key',
    ],
    ['an enum with no keys', prop({ type: 'enum', specs: {} }), 'properties[0].dataType.specs', 'empty'],
    ['an enum without specs', prop({ type: 'enum' }), 'properties[0].dataType.specs', 'required'],
    [
      'a bool key other than 0 and 1',
      prop({ type: 'bool', specs: { '2': 'x' } }),
      'properties[0].dataType.specs.2',
      'enum-key',
    ],
    [
      'struct specs that are not an array',
      prop({ type: 'struct', specs: {} }),
      'properties[0].dataType.specs',
      'type',
    ],
    [
      'a struct with no members',
      prop({ type: 'struct', specs: [] }),
      'properties[0].dataType.specs',
      'empty',
    ],
    [
      'a struct inside a struct',
      prop({ type: 'struct', specs: [member('s', { type: 'struct', specs: [member('i', int)] })] }),
      'properties[0].dataType.specs[0].dataType.type',
      'nested',
    ],
    [
      'an array inside a struct',
      prop({ type: 'struct', specs: [member('a', { type: 'array', specs: { size: '1', item: int } })] }),
      'properties[0].dataType.specs[0].dataType.type',
      'nested',
    ],
    [
      'a duplicate struct member',
      prop({ type: 'struct', specs: [member('m', int), member('m', int)] }),
      'properties[0].dataType.specs[1].identifier',
      'unique',
    ],
    ['array size 0', array({ size: '0', item: int }), 'properties[0].dataType.specs.size', 'size'],
    ['array size 513', array({ size: '513', item: int }), 'properties[0].dataType.specs.size', 'size'],
    ['a missing array size', array({ item: int }), 'properties[0].dataType.specs.size', 'required'],
    [
      'a date item',
      array({ size: '2', item: { type: 'date' } }),
      'properties[0].dataType.specs.item.type',
      'item-type',
    ],
    [
      'an array item',
      array({ size: '2', item: { type: 'array', specs: { size: '1', item: int } } }),
      'properties[0].dataType.specs.item.type',
      'item-type',
    ],
    [
      'a struct item with a nested struct',
      array({
        size: '2',
        item: { type: 'struct', specs: [member('s', { type: 'struct', specs: [member('i', int)] })] },
      }),
      'properties[0].dataType.specs.item.specs[0].dataType.type',
      'nested',
    ],
    ['a missing item', array({ size: '2' }), 'properties[0].dataType.specs.item', 'required'],
    ['an unknown event type', { events: [{ identifier: 'e', type: 'fatal' }] }, 'events[0].type', 'value'],
    [
      'a duplicate event output',
      { events: [{ identifier: 'e', outputData: [member('o', int), member('o', int)] }] },
      'events[0].outputData[1].identifier',
      'unique',
    ],
    [
      'a duplicate event',
      { events: [{ identifier: 'e' }, { identifier: 'e' }] },
      'events[1].identifier',
      'unique',
    ],
    [
      'an unknown callType',
      { services: [{ identifier: 's', callType: 'later' }] },
      'services[0].callType',
      'value',
    ],
    [
      'inputData that is not an array',
      { services: [{ identifier: 's', inputData: {} }] },
      'services[0].inputData',
      'type',
    ],
    [
      'a service param with a bad dataType',
      { services: [{ identifier: 's', outputData: [member('o', { type: 'int', specs: { max: 'x' } })] }] },
      'services[0].outputData[0].dataType.specs.max',
      'number',
    ],
  ])('%s', (_name, document, path, rule) => {
    const error = thrown(() => parseThingModel(document as object))
    expect(error.code).toBe('ERR_TSL_INVALID')
    expect(error.details).toEqual({ path, rule })
  })

  it.each<[string, unknown]>([
    ['min equal to max', prop({ type: 'int', specs: { min: '5', max: '5' } })],
    ['numbers instead of numeric strings', prop({ type: 'float', specs: { min: -1, max: 1, step: 0.1 } })],
    ['scientific notation', prop({ type: 'float', specs: { min: '0', max: '3.4028235E38' } })],
    ['text length 10240', prop({ type: 'text', specs: { length: '10240' } })],
    ['array size 512', array({ size: '512', item: { type: 'text', specs: { length: '8' } } })],
    ['date specs as an empty array', prop({ type: 'date', specs: [] })],
    ['a module-prefixed identifier', prop(int, { identifier: 'light:Brightness' })],
    ['a blank step', prop({ type: 'int', specs: { min: '0', max: '1', step: '' } })],
  ])('accepts %s', (_name, document) => {
    expect(() => parseThingModel(document as object)).not.toThrow()
  })
})

describe('ThingClient with a TSL file', () => {
  const triple = { productKey: 'a1LampDemo0', deviceName: 'lamp001', deviceSecret: 'x'.repeat(32) }

  it('reads nothing when constructed and loads the file at start()', async () => {
    await using connection = new Connection({ ...triple, brokerUrl: 'mqtt://127.0.0.1:1' })
    await using client = new ThingClient(connection, { thingModel: lampPath })
    expect(client.thingModel).toBeUndefined()
    await client.start()
    expectLamp(client.thingModel as ThingModel)
    await using fromUrl = new ThingClient(connection, { thingModel: lampUrl })
    await fromUrl.start()
    expectLamp(fromUrl.thingModel as ThingModel)
  })

  it('start() rejects ERR_TSL_INVALID for an unreadable or malformed file, and may be retried', async () => {
    await using connection = new Connection({ ...triple, brokerUrl: 'mqtt://127.0.0.1:1' })
    const missing = join(tmpdir(), 'linkkit-no-such-tsl.json')
    await using client = new ThingClient(connection, { thingModel: missing })
    await expect(client.start()).rejects.toMatchObject({ code: 'ERR_TSL_INVALID', details: { rule: 'read' } })
    const broken = await tempFile('broken.json', '{ "properties": ')
    await using bad = new ThingClient(connection, { thingModel: broken })
    await expect(bad.start()).rejects.toMatchObject({ code: 'ERR_TSL_INVALID', details: { rule: 'json' } })
    expect(bad.thingModel).toBeUndefined()
    await writeFile(broken, await readFile(lampPath, 'utf8'))
    await bad.start()
    expectLamp(bad.thingModel as ThingModel)
  })
})
