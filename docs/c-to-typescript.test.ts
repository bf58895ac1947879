import { readFileSync } from 'node:fs'
import { ThingClient } from '@linkkit/thing-model'
import {
  Device,
  FotaClient,
  linkkit,
  MemoryPersistence,
  OtaProgress,
  OtaSession,
  parseConfigOffer,
  parseOfferData,
  SubDevice,
  SubDevices,
} from 'linkkit'
import { describe, expect, it } from 'vitest'

const read = (path: string) => readFileSync(new URL(path, import.meta.url), 'utf8')
const page = read('./c-to-typescript.md')

/** The C names the page must map (PROTOCOL.md §4.1–§4.3: IOT_OTA_*, IOT_OTAG_*, IOT_OTAP_*, IOT_Linkkit_*, FOTA's ITE_* and ITM_MSG_*, the HAL). */
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
}

const rows: Row[] = page
  .split('\n')
  .filter((line) => line.startsWith('| ') && !line.startsWith('| **') && !line.startsWith('| C |'))
  .map((line) => line.split(' | '))
  .map(([c = '', ts = '']) => ({ c, ts }))

const C_NAME =
  /\b(IOT_OTA_\w+|IOT_OTAG_\w+|IOT_OTAP_\w+|IOT_Linkkit_\w+|IOT_RegisterCallback|ITE_\w+|ITM_MSG_\w+|HAL_\w+)/g

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
  [/\bdevice\.on\('([\w:]+)'/g, (m) => eventNames('../packages/linkkit/src/events.ts').has(m)],
  [/\bdevice\.(\w+)\b(?!\.)/g, has(Device.prototype)],
  [/\bgateway\.subdevices\.(\w+)/g, has(SubDevices.prototype)],
  [/\bsub\.(\w+)\b(?!\.)/g, has(SubDevice.prototype)],
  [/\bpersistence\.(\w+)/g, has(MemoryPersistence.prototype)],
  [/\bOtaProgress\.(\w+)/g, has(OtaProgress)],
  [/\blinkkit\.(\w+)/g, has(linkkit)],
  [/\boffer\.(\w+)/g, (m) => offerKeys.includes(m)],
]

describe('docs/c-to-typescript.md', () => {
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
