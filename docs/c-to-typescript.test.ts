import { readFileSync } from 'node:fs'
import * as core from '@linkkit/core'
import { FotaClient, parseConfigOffer, parseOfferData } from '@linkkit/fota'
import { SubDevice, SubDevices } from '@linkkit/gateway'
import * as facade from '@linkkit/sdk'
import {
  Device,
  FlashSimPersistence,
  linkkit,
  MemoryPersistence,
  OtaProgress,
  OtaSession,
} from '@linkkit/sdk'
import { ThingClient } from '@linkkit/thing-model'
import { describe, expect, it } from 'vitest'

const read = (path: string) => readFileSync(new URL(path, import.meta.url), 'utf8')
const page = read('./c-to-typescript.md')

/** The C names the page must map (docs/protocol.md §4.1–§4.3: IOT_OTA_*, IOT_OTAG_*, IOT_OTAP_*, IOT_Linkkit_*, FOTA's ITE_* and ITM_MSG_*, the HAL). */
const REQUIRED = [
  ...['Init', 'Deinit', 'Ioctl', 'GetLastError', 'ReportVersion', 'FetchYield', 'IsFetchFinish'].map(
    (n) => `IOT_OTA_${n}`,
  ),
  ...['IsFetching', 'ReportProgress', 'SetOnPushedCallback'].map((n) => `IOT_OTA_${n}`),
  ...[
    'COTA_CONFIG_ID',
    'COTA_CONFIG_SIZE',
    'COTA_SIGN',
    'COTA_SIGN_METHOD',
    'COTA_URL',
    'COTA_GETTYPE',
    'OTA_TYPE',
    'FETCHED_SIZE',
    'FILE_SIZE',
    'MD5SUM',
    'VERSION',
    'MODULE',
    'CHECK_FIRMWARE',
    'CHECK_CONFIG',
    'RESET_FETCHED_SIZE',
    'RESET_STATE',
  ].map((n) => `IOT_OTAG_${n}`),
  ...['BURN_FAILED', 'CHECK_FALIED', 'FETCH_FAILED', 'GENERAL_FAILED'].map((n) => `IOT_OTAP_${n}`),
  'IOT_OTAP_FETCH_PERCENTAGE_MIN',
  'IOT_OTAP_FETCH_PERCENTAGE_MAX',
  ...['Open', 'Connect', 'Yield', 'Close', 'Report', 'Query', 'TriggerEvent', 'AnswerService'].map(
    (n) => `IOT_Linkkit_${n}`,
  ),
  'IOT_RegisterCallback',
  ...['FOTA', 'FOTA_MODULE', 'COTA', 'INITIALIZE_COMPLETED', 'CONNECT_SUCC', 'DISCONNECTED'].map(
    (n) => `ITE_${n}`,
  ),
  ...['QUERY_FOTA_DATA', 'REQUEST_FOTA_IMAGE', 'QUERY_COTA_DATA', 'REQUEST_COTA'].map((n) => `ITM_MSG_${n}`),
  'ITM_MSG_REPORT_SUBDEV_FIRMWARE_VERSION',
  ...['Start', 'Write', 'Stop'].map((n) => `HAL_Firmware_Persistence_${n}`),
  'HAL_GetFirmwareVersion',
]

interface Row {
  c: string
  ts: string
  notes: string
}

const rows: Row[] = page
  .split('\n')
  .filter((line) => line.startsWith('| ') && !line.startsWith('| **') && !line.startsWith('| C |'))
  .map((line) => line.split(' | '))
  .map(([c = '', ts = '', notes = '']) => ({ c, ts, notes: notes.replace(/\s*\|$/, '') }))

const C_NAME =
  /\b(IOT_OTA_\w+|IOT_OTAG_\w+|IOT_OTAP_\w+|IOT_Linkkit_\w+|IOT_RegisterCallback|ITE_\w+|ITM_MSG_\w+|HAL_\w+)/g

/** Property names of an exported interface in a source file (`name:` or `name?:` at its first indent). */
function interfaceKeys(path: string, name: string): string[] {
  const body = new RegExp(`export interface ${name}\\b[^{]*\\{([\\s\\S]*?)\\n\\}`).exec(read(path))?.[1]
  if (body === undefined) throw new Error(`interface ${name} not found in ${path}`)
  return [...body.matchAll(/^ {2}(\w+)\??:/gm)].map((m) => m[1] ?? '')
}

/** Public `readonly` fields of an exported class (instance fields are not on its prototype). */
function classFields(path: string, name: string): string[] {
  const src = read(path)
  const start = src.indexOf(`export class ${name} `)
  if (start < 0) throw new Error(`class ${name} not found in ${path}`)
  const body = src.slice(start, src.indexOf('\n}\n', start))
  return [...body.matchAll(/^ {2}readonly (\w+)[?:]/gm)].map((m) => m[1] ?? '')
}

const CONNECTION_OPTIONS = interfaceKeys('../packages/core/src/options.ts', 'ConnectionOptions')
/** `linkkit.open()` options, and the keys of the ones that are objects. */
const OPEN_OPTIONS = new Set([
  ...CONNECTION_OPTIONS,
  ...interfaceKeys('../packages/sdk/src/options.ts', 'LinkkitOptions'),
])
const FOTA_OPTIONS = [
  ...interfaceKeys('../packages/fota/src/fota-options.ts', 'FotaOptions'),
  ...interfaceKeys('../packages/fota/src/fota-options.ts', 'ModuleFirmware'),
]
const NESTED_OPTIONS: Record<string, string[]> = {
  firmware: FOTA_OPTIONS,
  register: interfaceKeys('../packages/core/src/dynreg.ts', 'RegisterOptions'),
  tls: interfaceKeys('../packages/core/src/options.ts', 'TlsOptions'),
}
const DOWNLOAD_OPTIONS = [
  ...interfaceKeys('../packages/fota/src/download/options.ts', 'DownloadOptions'),
  ...interfaceKeys('../packages/fota/src/fota-options.ts', 'FotaDownloadOptions'),
]
const SUB_OPTIONS = interfaceKeys('../packages/gateway/src/types.ts', 'SubDeviceOptions')
const OTA_SESSION_OPTIONS = interfaceKeys('../packages/fota/src/ota-session.ts', 'OtaSessionOptions')
const RESOLVED_OPTIONS = interfaceKeys('../packages/core/src/options.ts', 'ResolvedConnectionOptions')
const SUB_FIELDS = classFields('../packages/gateway/src/sub-device.ts', 'SubDevice')
const MODULES: Record<string, object> = { '@linkkit/sdk': facade, '@linkkit/core': core }

/** Event names of one exported events interface: `name: (…) => void` or `'name:x': …`. */
function interfaceEvents(path: string, name: string): Set<string> {
  const body = new RegExp(`export interface ${name}\\b[^{]*\\{([\\s\\S]*?)\\n\\}`).exec(read(path))?.[1]
  if (body === undefined) throw new Error(`interface ${name} not found in ${path}`)
  return new Set([...body.matchAll(/^ {2}'?([\w:]+)'?: /gm)].map((m) => m[1] ?? ''))
}

/** A `Device`'s events: its own and those every device emits. */
const DEVICE_EVENTS = new Set([
  ...interfaceEvents('../packages/sdk/src/events.ts', 'DeviceEvents'),
  ...interfaceEvents('../packages/gateway/src/types.ts', 'CommonDeviceEvents'),
])

/** Event names declared in an events interface: `name: (…) => void` or `'name:x': …`. */
function eventNames(path: string): Set<string> {
  return new Set([...read(path).matchAll(/^\s+'?([\w:]+)'?: (?:\(|\w+Events\[)/gm)].map((m) => m[1] ?? ''))
}

const has = (target: object) => (member: string) => member in target
const offerKeys = Object.keys(
  parseOfferData({ version: '1', size: 1, url: 'https://x/y', md5: '0'.repeat(32), module: 'MCU' }),
)
const configKeys = Object.keys(
  parseConfigOffer({
    configId: 'c',
    configSize: 1,
    sign: '0'.repeat(64),
    signMethod: 'Sha256',
    url: 'https://x',
  }),
)

/** Each `receiver.member` pattern a TS cell may use, and how to tell that the member exists. */
const CHECKS: Array<[RegExp, (member: string) => boolean]> = [
  [/\bota\.config\?\.(\w+)/g, (m) => configKeys.includes(m)],
  [
    /\bota\.on\('([\w:]+)'/g,
    has(Object.fromEntries([...eventNames('../packages/fota/src/ota-session.ts')].map((e) => [e, 1]))),
  ],
  [/\bota\.(\w+)\b(?![?.])/g, (m) => m in OtaSession.prototype || ['lastError', 'ready'].includes(m)],
  [/\bdevice\.fota\.(\w+)/g, has(FotaClient.prototype)],
  [/\bsub\.fota\.(\w+)/g, has(FotaClient.prototype)],
  [/\bdevice\.thing\.on\('([\w:]+)'/g, (m) => eventNames('../packages/thing-model/src/events.ts').has(m)],
  [/\bdevice\.thing\.(\w+)/g, has(ThingClient.prototype)],
  [/\bdevice\.on\('([\w:]+)'/g, (m) => DEVICE_EVENTS.has(m)],
  [/\bdevice\.(\w+)\b(?!\.)/g, has(Device.prototype)],
  [/\bgateway\.subdevices\.(\w+)/g, has(SubDevices.prototype)],
  [/\bsub\.(\w+)\b(?!\.)/g, (m) => m in SubDevice.prototype || SUB_FIELDS.includes(m)],
  [/\bdevice\.connection\.options\.(\w+)/g, (m) => RESOLVED_OPTIONS.includes(m)],
  [/\bdevice\.connection\.(\w+)\b(?!\.)/g, has(core.Connection.prototype)],
  [/\bgateway\.subdevices\.on\('([\w:]+)'/g, (m) => eventNames('../packages/gateway/src/types.ts').has(m)],
  [/(?<!subdevices\.)\bopen\(\{ (\w+)/g, (m) => OPEN_OPTIONS.has(m)],
  [/\bsubdevices\.open\(\{ (\w+)/g, (m) => SUB_OPTIONS.includes(m)],
  [/\bdownload\(offer, \{ (\w+)/g, (m) => DOWNLOAD_OPTIONS.includes(m)],
  [/\bnew OtaSession\([\w.]+, \{ (\w+)/g, (m) => OTA_SESSION_OPTIONS.includes(m)],
  [/\bflash\.(\w+)/g, has(FlashSimPersistence.prototype)],
  [/\bpersistence\.(\w+)/g, has(MemoryPersistence.prototype)],
  [/\bOtaProgress\.(\w+)/g, has(OtaProgress)],
  [/\blinkkit\.(\w+)/g, has(linkkit)],
  [/\boffer\.(\w+)/g, (m) => offerKeys.includes(m)],
]

/** The names fixture: names taken from the C SDK 3.x headers an application meets. */
interface NamesFixture {
  repository: string
  headers: Array<{ tag: string; path: string } & Record<string, unknown>>
}
const fixture = JSON.parse(read('./fixtures/c-sdk-3.x-names.json')) as NamesFixture
const NAME_KINDS = ['functions', 'macros', 'messages', 'events', 'ioctlOptions', 'otaCommands', 'otaProgress']
const fixtureNames = fixture.headers.flatMap((h) =>
  NAME_KINDS.flatMap((kind) => (Array.isArray(h[kind]) ? (h[kind] as string[]) : [])),
)

/** Why a row without a TypeScript counterpart has none: `not applicable` / `not ported` / `not needed`. */
const NO_COUNTERPART = /^(not applicable|not ported|not needed)$/
const hasCode = (cell: string) => /`[^`]+`/.test(cell)
const words = (text: string) => text.split(/\s+/).filter((w) => /\w/.test(w)).length

/** A row maps its C names when it names TypeScript code, points at the rows below, or says why there is none. */
function explains(row: Row): boolean {
  const ts = row.ts.trim()
  if (NO_COUNTERPART.test(ts)) return words(row.notes) >= 3
  return hasCode(ts) || /, below$/.test(ts)
}

describe('docs/c-to-typescript.md', () => {
  it('the names fixture holds every kind of name, from tagged headers, once per header', () => {
    expect(fixture.repository).toBe('https://github.com/aliyun/iotkit-embedded')
    for (const h of fixture.headers) {
      expect(h.tag).toMatch(/^v3\.\d\.\d$/)
      expect(h.path).toMatch(/\.h$/)
      const names = NAME_KINDS.flatMap((kind) => (Array.isArray(h[kind]) ? (h[kind] as string[]) : []))
      expect(new Set(names).size, h.path).toBe(names.length)
    }
    const count = (prefix: string) => fixtureNames.filter((n) => n.startsWith(prefix)).length
    expect(count('IOTX_IOCTL_')).toBeGreaterThanOrEqual(30)
    expect(count('ITE_')).toBeGreaterThanOrEqual(30)
    expect(count('ITM_MSG_')).toBe(17)
    expect(count('IOT_MQTT_')).toBe(10)
    // The names issue 11 found missing from the page.
    for (const name of [
      'IOT_Ioctl',
      'IOT_SetLogLevel',
      'ITM_MSG_POST_RAW_DATA',
      'ITE_RAWDATA_ARRIVED',
      'ITM_MSG_PROPERTY_DESIRED_GET',
      'ITM_MSG_DEVICEINFO_UPDATE',
      'ITE_TIMESTAMP_REPLY',
      'IOT_MQTT_Publish',
      'IOT_MQTT_Subscribe',
    ])
      expect(fixtureNames).toContain(name)
    // Every name the page was first written for is in the fixture too.
    expect(REQUIRED.filter((name) => !fixtureNames.includes(name))).toEqual([])
  })

  it('maps every fixture name: a TypeScript counterpart, or why there is none', () => {
    const unmapped: string[] = []
    const unexplained: string[] = []
    for (const name of fixtureNames) {
      const word = new RegExp(`\\b${name}\\b`)
      const found = rows.filter((row) => word.test(row.c))
      if (found.length === 0) unmapped.push(name)
      else if (!found.some(explains)) unexplained.push(name)
    }
    expect(unmapped).toEqual([])
    expect(unexplained).toEqual([])
  })

  it('names in the C column are names of the headers (no typos, nothing invented)', () => {
    const known = new Set(fixtureNames)
    const unknown = rows
      .flatMap((row) =>
        [...row.c.matchAll(/\b(?:IOT|HAL|ITE|ITM_MSG|IOTX_IOCTL|iotx)_\w+/g)].map((m) => m[0]),
      )
      .filter((name) => !known.has(name))
    expect(unknown).toEqual([])
  })

  it('names only options and exports that exist, and members that exist in the notes too', () => {
    const missing: string[] = []
    for (const row of rows) {
      const notesCode = [...row.notes.matchAll(/`([^`]+)`/g)].map((m) => m[1]).join(' ')
      for (const [pattern, exists] of CHECKS) {
        for (const m of notesCode.matchAll(pattern))
          if (!exists(m[1] ?? '')) missing.push(`${m[0]} (${row.c})`)
      }
      for (const m of row.ts.matchAll(/\bopen\(\{ (\w+): \{ (\w+)/g)) {
        const [, outer = '', inner = ''] = m
        if (!(NESTED_OPTIONS[outer] ?? []).includes(inner)) missing.push(`${m[0]} (${row.c})`)
      }
      for (const m of row.ts.matchAll(/`(\w+)` from `(@linkkit\/sdk|@linkkit\/core)`/g)) {
        const [, name = '', module = ''] = m
        if (!(name in (MODULES[module] ?? {}))) missing.push(`${name} from ${module} (${row.c})`)
      }
    }
    expect(missing).toEqual([])
    expect(rows.filter((row) => /\bopen\(\{ \w+: \{/.test(row.ts)).length).toBeGreaterThanOrEqual(3)
  })

  it('maps every C name of the OTA, Link Kit and HAL APIs', () => {
    const mapped = new Set(rows.flatMap((row) => [...row.c.matchAll(C_NAME)].map((m) => m[1])))
    expect(REQUIRED.filter((name) => !mapped.has(name))).toEqual([])
  })

  it('names only TypeScript members that exist', () => {
    const missing: string[] = []
    for (const row of rows) {
      const code = [...row.ts.matchAll(/`([^`]+)`/g)].map((m) => m[1]).join(' ')
      for (const [pattern, exists] of CHECKS) {
        for (const m of code.matchAll(pattern)) if (!exists(m[1] ?? '')) missing.push(`${m[0]} (${row.c})`)
      }
    }
    expect(missing).toEqual([])
    expect(rows.length).toBeGreaterThan(60)
  })

  it('gives each IOT_OTAP_* value its OtaProgress number', () => {
    for (const row of rows.filter((r) => r.c.includes('IOT_OTAP_'))) {
      const value = Number(/\((-?\d+)\)/.exec(row.c)?.[1])
      const key = /OtaProgress\.(\w+)/.exec(row.ts)?.[1] as keyof typeof OtaProgress
      expect(OtaProgress[key], row.c).toBe(value)
    }
  })
})
